// Command bank builds a model bundle's retrieval bank (bank.npy and
// bank.json) from the dataset and the mocap it was built from (see
// training/bank).
//
//	go run ./training/cmd/bank -data training/data -out training/runs/bank
//
// With -model, each window whose class check passes is also tried through
// that bundle (survive.go): windows whose samples fail the check more
// often than -survive-share allows are left out.
//
//	go run ./training/cmd/bank -model assets/models/cmu-small-v1 -out training/runs/bank
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
	bundle := fs.String("model", "", "a bundle folder or bundled model id: keep only windows that pass their check through it")
	samples := fs.Int("survive-samples", 4, "with -model: samples tried per window")
	seed := fs.Int64("survive-seed", 1, "with -model: their seed")
	fs.Float64Var(&cfg.SurviveShare, "survive-share", 0.75, "with -model: the share of samples that must pass")
	fs.IntVar(&cfg.MinEntries, "min-entries", 4, "with -model: a class keeps at least this many windows (the best of those that fail)")
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
	if *bundle != "" {
		if *samples < 1 || !(cfg.SurviveShare > 0 && cfg.SurviveShare <= 1) || cfg.MinEntries < 1 {
			return fmt.Errorf("-survive-samples %d, -survive-share %g, -min-entries %d: want ≥ 1, (0, 1], ≥ 1",
				*samples, cfg.SurviveShare, cfg.MinEntries)
		}
		s, err := newSurvival(*bundle, *samples, *seed)
		if err != nil {
			return err
		}
		defer s.Close()
		cfg.Survival, cfg.FPS = s.share, s.fps()
	}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	sum, err := bank.Build(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/bank.npy (%d entries, %d rows, %.1f MB) and bank.json\n",
		cfg.OutDir, sum.Entries, sum.Rows, float64(sum.Bytes)/(1<<20))
	fmt.Fprintln(stdout, "class          entries  takes failing the check  passing it, not through the model  mirrors not through it")
	for _, c := range dataset.ClassNames {
		fmt.Fprintf(stdout, "  %-13s %4d  %4d  %4d  %4d\n", c, sum.PerClass[c], sum.Failed[c], sum.Dropped[c], sum.MirrorsDropped[c])
	}
	fmt.Fprintf(stdout, "  (no class)    %4d\n", sum.Unclassed)
	return nil
}
