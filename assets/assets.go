// Package assets holds the files embedded in the binary: the default skeleton
// now, the bundled model and icons later. It has no logic beyond exposing bytes.
package assets

import _ "embed"

// SOMA77JSON is the 77-joint SOMA skeleton (joint names, parents, rest offsets
// in metres, rest rotations as xyzw quaternions), derived from NVIDIA Kimodo's
// skeleton assets. See NOTICE.
//
//go:embed skeletons/soma77.json
var SOMA77JSON []byte

// IconPNG is the application icon (also named in FyneApp.toml).
//
//go:embed icon.png
var IconPNG []byte
