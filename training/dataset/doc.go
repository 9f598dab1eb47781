// Package dataset builds the training data of the bundled text-to-motion
// model from the CMU mocap folder (../shared/mocap with its cmu_fbx/ takes,
// unpacked: about 8 h of motion): every take
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
// Rows. clips.csv lists one BVH file per row, and cmu_fbx/clips.csv (read
// when present: ExtraIndexes) the 1,830 takes of ../shared/mocap/cmu_fbx,
// with paths relative to the mocap folder; rows whose cmu_id is not a CMU
// trial (subject_trial) are skipped: the T-pose template misc_standard.bvh.
// So are takes with neither a description nor a subject category (63_13,
// 84_04): nothing to caption them with.
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
// Classes (Classes). Patterns over the cleaned description (classPatterns
// in captions.go), per class; the ids are what clips.json's "classes" hold:
//
//	walk           walk(s/ing), stride, stroll, march, sneak, tiptoe, limp, stagger, sidestep, step(s)
//	run            run(s/ning), jog, sprint
//	jump           jump, hop, leap, jete, skip
//	sit            sit(s/ting), seated, take a seat
//	stand_up       stand up, rise, get up from a chair/stool, sit … and get up
//	fall           fall, fell, collapse, faint, trip, tumble, lay/lie down, lying on
//	get_up         get up from the floor/ground, get up laying, lay down and get up
//	crouch         crouch, squat, kneel, duck under/to
//	pick_up        pick (…) up, scoop up
//	kick           kick(s/ing)
//	punch          punch, jab, strike, boxing, shadowbox ("box" alone is a box)
//	push           push, shove
//	climb          climb, ladder, up/down stairs, stepping up
//	wave           wave, direct traffic
//	turn           turn, spin, pivot, twirl, pirouette, tourant
//	walk_backward  walk/step/run … backward(s); not also a walk unless it walks forward too
//	dance          dance, salsa, ballet, arabesque, charleston, breakdance, jete, glissade
//	sports         basketball, soccer, golf, baseball, dribble, shoot, putt, swim strokes, cartwheels, flips,
//	               throwing and tossing (a ball; "throw punches" stays a punch)
//	gesture        gesture, signal, point, clap, shrug, nod, bow, salute, conversation, explain, argue
//
// About 700 takes (animal imitations, chores, swimming, nursery rhymes) have
// none and train under their own description alone. The subject category
// counts only when the description is empty (the Indian dance files, the
// "walking with obstacles" sessions) or the category names a dance ("salsa",
// "modern dance"): "run, jump, walk" or "Martial Arts Walks" describe a
// session. Before matching, CleanDescription drops the two-person note
// "(2 subjects - subject a)", file-style underscores and numbers
// ("front_kicking001" → "front kicking") and splits action words glued to
// others ("acheywalk" → "achey walk"). The karate terms of subject 135 are
// put in English first (Mawashigeri → roundhouse kick, Yokogeri → side
// kick, Oiduki → lunge punch, Gedanbarai → downward block, Syutouuke →
// knife hand block, Heiansyodan / Empi → kata).
//
// Balance. The builder records every clip's classes; training draws windows
// weighted by class minutes**-power (train.py --class-power), so walks (300
// of the 980 minutes) do not drown waves (1.5).
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
