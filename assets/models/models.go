// Package models embeds the bundled model, so the studio works with no
// download. It is its own package so that only what runs a model carries
// its 28 MB.
package models

import (
	"embed"
	"io/fs"
)

// DefaultID is the bundled model's id (its folder name).
const DefaultID = "cmu-small-v1"

//go:embed cmu-small-v1
var bundles embed.FS

// Bundle returns the files of the bundled model with this id.
func Bundle(id string) (fs.FS, error) {
	if _, err := fs.Stat(bundles, id+"/model.json"); err != nil {
		return nil, err
	}
	return fs.Sub(bundles, id)
}
