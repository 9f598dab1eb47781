package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	studio "github.com/motionstudio/studio"
	"github.com/motionstudio/studio/assets"
	"github.com/motionstudio/studio/ui"
)

// metadata mirrors FyneApp.toml, which a plain `go build` binary does not
// read: above all the fyneDo migration, so Fyne checks that UI updates from
// other goroutines go through fyne.Do.
var metadata = fyne.AppMetadata{
	ID:         studio.AppID,
	Name:       studio.AppName,
	Version:    studio.Version,
	Build:      1,
	Migrations: map[string]bool{"fyneDo": true},
}

const usage = `usage: motionstudio [command] [arguments]

With no command, opens the studio window.

Commands:
  generate --prompt TEXT -o OUT.{bvh,npz,glb,fbx}    generate motion from text (run "motionstudio generate -h")
  convert IN.bvh OUT.{bvh,npz,glb,gltf,fbx} [flags]  convert a BVH clip (run "motionstudio convert -h")
  serve [--addr HOST:PORT] [--model ID|DIR|null]     serve the HTTP API (run "motionstudio serve -h")
  batch REQUESTS.jsonl --server URL [--out DIR]      send MMCP requests to a server, write the results (run "motionstudio batch -h")
  version                                            print the version
  help                                               print this help
`

// run dispatches a subcommand and returns the process exit code: 0, 1 for a
// failure, 2 for a usage error. Errors are one line on stderr.
func run(args []string) int {
	return dispatch(args, os.Stdout, os.Stderr)
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch cmd := first(args); cmd {
	case "":
		err = runStudio()
	case "convert":
		err = runConvert(ctx, args[1:], stdout, stderr)
	case "generate":
		err = runGenerate(ctx, args[1:], stdout, stderr)
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "batch":
		err = runBatch(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "motionstudio", studio.Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q (run \"motionstudio help\")", errUsage, cmd)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp): // -h printed the flags already
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "motionstudio:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "motionstudio:", err)
		return 1
	}
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func runStudio() error {
	fyneapp.SetMetadata(metadata)
	a := fyneapp.NewWithID(metadata.ID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	// The app owns the engine the studio borrows (and hands to the API it
	// serves): it is closed here, once the window and its loop are gone.
	engines := ui.NewEngines("")
	defer engines.Close()
	ui.NewStudio(a, ui.Options{GL: true, NativeDialogs: true, Version: studio.Version, Engines: engines}).Window.ShowAndRun()
	return nil
}
