// Command bank builds a model bundle's retrieval bank (bank.npy and
// bank.json) from the dataset and the mocap it was built from (see
// training/bank).
//
//	go run ./training/cmd/bank -data training/data -out training/runs/bank
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/motionstudio/studio/training/bank"
	"github.com/motionstudio/studio/training/dataset"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bank:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bank", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bank.Config
	fs.StringVar(&cfg.DataDir, "data", "training/data", "the dataset builder's output folder")
	fs.StringVar(&cfg.MocapDir, "mocap", os.Getenv("MOTIONSTUDIO_MOCAP"), "the mocap folder the dataset was built from")
	fs.StringVar(&cfg.OutDir, "out", "training/runs/bank", "output folder for bank.npy and bank.json")
	fs.IntVar(&cfg.PerClass, "per-class", 50, "most entries of one class (before mirrors)")
	mb := fs.Float64("max-mb", 22, "most megabytes of bank.npy")
	verbose := fs.Bool("v", false, "log every take whose check fails")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.MocapDir == "" {
		return fmt.Errorf("-mocap is required (or MOTIONSTUDIO_MOCAP)")
	}
	if !(*mb > 0) {
		return fmt.Errorf("-max-mb %g is not positive", *mb)
	}
	cfg.MaxBytes = int(*mb * (1 << 20))
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	sum, err := bank.Build(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/bank.npy (%d entries, %d rows, %.1f MB) and bank.json\n",
		cfg.OutDir, sum.Entries, sum.Rows, float64(sum.Bytes)/(1<<20))
	fmt.Fprintln(stdout, "class          entries  takes failing the check")
	for _, c := range dataset.ClassNames {
		fmt.Fprintf(stdout, "  %-13s %4d  %4d\n", c, sum.PerClass[c], sum.Failed[c])
	}
	fmt.Fprintf(stdout, "  (no class)    %4d\n", sum.Unclassed)
	return nil
}
