// Command motionstudio is Motion Studio: with no subcommand, the studio
// window; `convert` turns BVH files into BVH, NPZ or GLB.
package main

import (
	"os"

	_ "github.com/motionstudio/studio/internal/localeenv" // before Fyne's init: see the package
)

func main() { os.Exit(run(os.Args[1:])) }
