// Command dataset builds the training data of the bundled text-to-motion
// model from the CMU mocap folder: features.npy and clips.json (see
// training/dataset).
//
//	go run ./training/cmd/dataset -mocap DIR -out training/data
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/motionstudio/studio/training/dataset"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dataset:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dataset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mocap := fs.String("mocap", defaultMocap(), "mocap folder holding clips.csv and the BVH folders")
	out := fs.String("out", "training/data", "output folder for features.npy and clips.json")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "clips processed at once")
	testFrac := fs.Float64("test-fraction", 0.1, "fraction of takes held out for the test split")
	verbose := fs.Bool("v", false, "log every clip")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !(*testFrac > 0 && *testFrac < 1) {
		return fmt.Errorf("-test-fraction %g is not in (0, 1)", *testFrac)
	}
	cfg := dataset.Config{MocapDir: *mocap, OutDir: *out, Workers: *workers, TestFraction: *testFrac}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	sum, err := dataset.Build(cfg)
	if err != nil {
		return err
	}
	printSummary(stdout, sum)
	return nil
}

// defaultMocap is $MOTIONSTUDIO_MOCAP or the folder `make deps` unpacks to.
func defaultMocap() string {
	if d := os.Getenv("MOTIONSTUDIO_MOCAP"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return home + "/.cache/motionstudio/mocap/data"
}

func printSummary(w io.Writer, s *dataset.Summary) {
	fmt.Fprintf(w, "wrote %s [%d, %d] and %s\n", s.FeaturesPath, s.Rows, s.Dim, s.ClipsIndexPath)
	for _, sp := range []string{dataset.Train, dataset.Test} {
		fmt.Fprintf(w, "%-5s: %3d takes, %4d clips (mirrored included), %6d frames, %5.1f min\n",
			sp, s.Takes[sp], s.Clips[sp], s.Frames[sp], float64(s.Frames[sp])/s.FPS/60)
	}
	fmt.Fprintf(w, "total: %d frames, %.1f min at %g fps\n", s.Rows, s.Minutes(), s.FPS)
	fmt.Fprintln(w, "classes (takes, minutes with mirrors):")
	for _, c := range dataset.ClassNames {
		fmt.Fprintf(w, "  %-13s %4d  %5.1f\n", c, s.ClassTakes[c], float64(s.ClassFrames[c])/s.FPS/60)
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, "skipped %d files:\n", len(s.Skipped))
		printSkips(w, s.Skipped)
	}
	fmt.Fprintf(w, "took %s\n", s.Elapsed.Round(1e7))
}

// number is any figure in a skip reason: reasons that differ only in their
// figures are one kind.
var number = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// printSkips prints each kind of reason once, with its count and files.
func printSkips(w io.Writer, skips []dataset.Skip) {
	files := map[string][]string{}
	for _, k := range skips {
		kind := number.ReplaceAllString(strings.SplitN(k.Reason, " of take", 2)[0], "#")
		files[kind] = append(files[kind], k.File)
	}
	kinds := make([]string, 0, len(files))
	for k := range files {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fs := files[k]
		list := strings.Join(fs[:min(len(fs), 8)], " ")
		if len(fs) > 8 {
			list += " …"
		}
		fmt.Fprintf(w, "  %3d  %s: %s\n", len(fs), k, list)
	}
}
