// Package dataset builds the training data of the bundled text-to-motion
// model from the CMU mocap folder (../shared/mocap, unpacked): every take
// read with the project's BVH reader, put on SOMA77 at 30 fps, mirrored,
// captioned, split by take and encoded with model.DefaultLayout(). Run it
// with `go run ./training/cmd/dataset -mocap DIR -out training/data`.
//
// # Output (OutDir)
//
// features.npy: float32 [N, D], every kept clip's feature rows concatenated
// (mirrored copies are clips of their own). clips.json: {"fps", "dim",
// "layout" (model.json's features section plus "predicted_joints"),
// "mean", "std" (per dimension over the train split, float64 sums),
// "clips": [{"id", "source", "mirrored", "split", "start", "frames",
// "captions", "classes", "piece" (only for parts of long clips)}],
// "vocabulary_classes"}. Both are written atomically; a build is a pure
// function of the mocap folder (same bytes for any worker count).
//
// # Rules, in pipeline order
//
// Rows. clips.csv lists one BVH file per row; rows whose cmu_id is not a
// CMU trial (subject_trial) are skipped: the T-pose template
// misc_standard.bvh.
//
// Frame rate (TrueFPS). A conversion can only lower the capture rate, so
// the true rate is min(header rate, cmu_source_fps). ../shared/mocap's
// README says the salsa files claim 120 fps but were captured at 60 (min →
// 60), the iClone files are at 60 fps (captured at 120: min → 60) and
// 16_01/16_02 at 30 (captured at 120: min → 30); every other file's header
// equals its capture rate. A missing source rate trusts the header.
//
// Duplicates (Dedup). 20 takes (02_01…07_12) exist both as iClone and as
// DAZ conversions; the DAZ one is kept: converted directly from CMU's
// skeleton at the full 120 fps, where the iClone file was retargeted once
// more onto the 100-joint CC_Base rig and halved to 60 fps. Rank:
// cmu_hahne < DAZ folders < iClone < others, ties by file path, so the
// choice never depends on row order.
//
// Reference frames (LeadingCut). After retargeting to SOMA77 (one rule for
// every rig), a frame 0 with both arms straight out sideways from which the
// body jumps by more than 5 cm is a prepended reference pose: found on
// iClone 007_03…007_12 and cmu_hahne 13_26 (as the README says) and on
// every cgspeed DAZ file, which also blends from it into the capture over
// about 8 frames at up to 40 m/s; frames within the first 0.1 s moving
// faster than max(2 × the clip's median speed, 2 m/s) go too (cuts of 4–12
// frames at 120 fps). The other iClone files (01_01, 02_01, …) start in
// motion and keep frame 0, though the README describes a T-pose for all.
//
// Resampling and length. Motion.Resample to 30 fps after the cut. Clips
// under MinFrames (32) are dropped; clips over MaxFrames (3000) are cut
// into equal pieces of at most PieceFrames (1500), numbered by "piece".
// Features are computed on the whole 30 fps clip, then sliced.
//
// Floor (Ground). After resampling, each clip is moved vertically so that
// the 5th percentile over frames of its lowest heel or toe is at the SOMA77
// rest pose's foot height. Retargeting keeps the source floor at y = 0 and
// scales the root by leg length, which is right only when the source
// skeleton is the captured subject's: the cgspeed conversions put every
// subject on one skeleton, so subjects 94 and 135 came out 10–15 cm under
// the floor (07_12 a metre) and others floating, and a model trained on
// them stands some prompts in the floor.
//
// Broken captures (RootJolt). A clip whose root's vertical acceleration
// has a 95th percentile above 50 m/s² is dropped (real runs reach ~22,
// landings ~33): the cgspeed 07_12 (65) and 09_10 (150), whose root height
// jumps by decimetres between frames. A take dropped so falls back on its
// next-ranked conversion (07_12: the iClone file).
//
// Split (AssignSplits). The unit is the take (cmu_id), except that the
// salsa partners 60_k and 61_k (two dancers of one take) share a unit. A
// unit is in test when sha256("motionstudio-split/"+unit) read as a
// fraction is below TestFraction (0.1); then each class held by at least 3
// units with none in test gets its lowest-hash unit moved to test. Mirrored
// copies and pieces share their take's split.
//
// Classes (Classes). Whole words of the cleaned description, per class:
//
//	walk   walk walks walking stride strides stroll veer march
//	run    run runs running jog jogs jogging sprint
//	jump   jump jumps jumping hop hops leap leaps jete jetes
//	kick   kick kicks kicking
//	punch  punch punches punching strike
//	dance  dance dances dancing salsa ballet pirouette(s) arabesque
//	climb  climb climbs climbing
//	wave   wave waves waving
//	turn   turn turns turning tourant pirouette(s) spin spins
//	sit    sit sits sitting seated
//	stand  stand stands standing rise balance
//	box    box boxing boxer shadowbox
//
// The subject category counts only when the description is empty (the
// Indian dance files) or the category names a dance ("salsa", "modern
// dance"): "run, jump, walk" or "Martial Arts Walks" describe a session.
// The karate terms of subject 135 are put in English first (Mawashigeri →
// roundhouse kick, Yokogeri → side kick, Oiduki → lunge punch, Gedanbarai
// → downward block, Syutouuke → knife hand block, Heiansyodan / Empi →
// kata).
//
// Captions (Captions). First the cleaned description (lower case, "a/b" →
// "a or b", "topic - detail" → "topic, detail"; "walk, veer left" stays),
// or the category when there is none ("indian dance"). Then, for up to
// three classes in the order the text names them, two templates chosen by
// a PCG generator seeded from the take id ("a person walks slowly",
// "someone is walking", "a person performs a salsa dance", …), filled with
// a manner phrase ("slowly", "and veers left", "forward", "on playground
// equipment") or a kind ("roundhouse kick", "salsa dance") found in the
// description; for several classes one more joins them ("a person jumps
// forward and then turns around"). Mirrored copies swap left↔right (and
// clockwise↔counterclockwise) in every caption (MirrorText).
//
// Mirroring. Every clip also appears reflected (Motion.Mirror) with
// mirrored = true. SOMA77's left and right offsets differ by up to ~3 mm,
// so only the root mirrors exactly; the rest is within that.
package dataset
