// Package bvh reads and writes Biovision Hierarchy motion files, the format
// Blender, MotionBuilder and most mocap tools exchange.
//
// Reading keeps the file's units and joint frames: each JOINT becomes a
// motion.Joint with Offset = OFFSET and an identity Rest rotation, an End
// Site becomes its joint's EndOffset, and each frame's rotation channels
// (degrees, in whatever order the CHANNELS line lists them) become one local
// quaternion per joint.
//
// Position channels. Blender's importer treats position channels as the
// joint's absolute local translation (the channel replaces OFFSET). The
// iClone CC_Base files in our mocap data disagree for the root: their root
// OFFSET is 0 105 0 (centimetres) while Yposition is about 7 at frame 0, and
// only OFFSET + channel puts the T-pose's feet on the floor (checked by
// TestRootOffsetConvention). So:
//
//   - root: Motion.Root = OFFSET + channel. On the usual files, whose root
//     OFFSET is 0 0 0, this is exactly what Blender does, and on iClone's it
//     is the physically right pose;
//   - other joints with position channels: the channel replaces OFFSET
//     (Motion.Trans), as in Blender; exporters that write six channels per
//     joint put the joint's offset in them.
//
// A position component that has no channel keeps OFFSET's value.
//
// Writing bakes the skeleton's rest rotations into world-aligned frames (BVH
// has none), writes the root OFFSET as 0 0 0 with absolute root positions so
// that every importer agrees, and gives each leaf an End Site.
package bvh

import "fmt"

// SyntaxError reports malformed BVH input at a 1-based line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("bvh: line %d: %s", e.Line, e.Msg) }

func syntaxErr(line int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}
