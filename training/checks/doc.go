// Package checks holds one physical check per action class: a rule anyone
// can read, measured on a motion's joint positions (forward kinematics of
// engine/motion), with no classifier. Check runs a class's rule on a whole
// motion; Best slides a window over it (a take holds several actions) and
// keeps the window that passes best; PassRate is the share of a set of
// motions whose best window passes. A Result carries every measured value,
// its limit and a one-line reason: "hips 0.41 m above the floor at their
// lowest (limit ≤ 0.44)".
//
// Heights are above the motion's floor: where its feet stand
// (motion.FootFloor, less the rest pose's foot height, as motion.Ground
// grounds a clip), so a clip is judged wherever it was placed. Each foot's
// lift is measured from its own floor (FootFloorPercentile): retargeted
// CMU feet stand 2-7 cm above the rest pose's heel and toe heights. Hip,
// head, leg and arm lengths come from the skeleton's rest pose (SOMA77:
// hips 0.99 m over the floor, head 1.59 m, leg 0.85 m, arm 0.56 m). Speeds
// are differences over ±0.04 s, so the rules read the same at 12, 24, 30
// or 60 fps. A foot is off the ground when it is over Clear (15 cm) above
// its floor, or over AirLift (5 cm) and moving at Swing (1 m/s) or faster;
// a flight is both feet off the ground while the hips fall at FreeFall (5
// m/s², half of gravity) or faster. The rules read these joints: Hips,
// Chest, Head, LeftArm/RightArm (shoulders), LeftHand/RightHand (wrists),
// LeftLeg/RightLeg (hip joints), LeftFoot/RightFoot (heels, ankles) and
// LeftToeBase/RightToeBase; a skeleton without them is an error.
//
// The rules, with "stand" the skeleton's standing hip height (0.99 m) and
// "a stretch" the best sub-window of the window:
//
//	class          passes when                                            why the limits
//	walk           over a 2 s stretch: hips travel forward ≥ 0.4 m/s,     slow walks go 0.4-0.6 m/s; a shuffle or a sway does not change
//	               ≥ 0.7 of their path along the facing, the leading      the leading foot (LeadMargin 15 cm); walking always keeps a foot
//	               foot changes ≥ 0.9 times a second, ≤ 0.1 s airborne    down, running does not
//	run            over a 1.5 s stretch: the leading foot changes ≥ 1.3   CMU runs step 2-3.4 times a second with 2-4 flights per 1.5 s;
//	               times a second, and hips travel ≥ 2.0 m/s or ≥ 2       walks reach 2 m/s only when brisk (CMU subject 08), never fly
//	               flight phases (≥ 0.05 s each)
//	jump           a flight of ≥ 0.1 s with the hips ≥ 0.08 m above       a hop's flight lasts 0.15-0.5 s; CMU's standing hips sit 2-4 cm
//	               stand at its top                                       below the rest pose's, so 8 cm over stand is about 10 cm over standing
//	sit            hips ≤ 0.75 stand, head ≥ 0.3 m above them, for        a chair puts the hips at 0.5-0.6 stand, a high seat at 0.73; a high
//	               ≥ 0.5 s; or both feet off the floor with the hips      stool keeps them at standing height, but no one stands still for
//	               still (< 0.2 m/s) for ≥ 1 s                            a second with both feet in the air
//	stand_up       hips ≤ 0.75 stand (or perched, feet up, hips still     from a chair (0.53-0.65) or a stool to standing (≥ 0.85: CMU's
//	               ≥ 0.5 s), later ≥ 0.85 stand                           standing hips are 0.95-1.02 m)
//	fall           hips ≥ 0.85 stand, later ≤ 0.45 stand or lying (head   a body on the floor has its hips at 0.1-0.4 m; CMU's falls drop
//	               ≤ 0.2 m above the hips), dropping at ≥ 1 m/s on the     them at 1.2-4.5 m/s, sitting or lying down at 0.2-1.4: the speed
//	               way down                                               tells a fall only from the slower half of those
//	get_up         hips ≤ 0.45 stand or lying, later ≥ 0.85 stand         the same postures the other way; lying counts wherever the body
//	                                                                      lies (CMU's get-ups from a bed lie 0.9 m above the floor)
//	crouch         hips ≤ 0.8 stand or head ≤ 0.8 of its standing         a crouched walk drops the hips only 10 % but the head 25-30 %;
//	               height, a foot on the floor, not lying, not in the     a squat drops the hips 50-70 %
//	               air, for ≥ 0.2 s
//	pick_up        a wrist ≤ 0.45 m above the floor                       the fingertips reach 0.2 m further; a box is grasped at its sides
//	kick           a foot ≥ 0.5 m above the floor with the other on it,   CMU kicks lift the foot 0.54-1.5 m at 3-10 m/s with a straight
//	               its leg ≥ 0.8 of its length from hip to ankle, the     leg; a step onto a block or a high march lifts it with a bent knee
//	               foot at ≥ 2.5 m/s about the hips within 0.25 s
//	punch          a wrist moves forward from the chest at ≥ 3 m/s        a punch drives the fist at 3-5 m/s at 30 fps; reaching for
//	               along the facing and the arm reaches ≥ 0.8 of its      something is slower, a walk's arm swing 1-2 m/s
//	               length within 0.2 s
//	push           both wrists ≥ 0.35 m in front of the chest and within  hands on an object at chest height, held; a reach is brief
//	               0.4 m of its height for ≥ 0.3 s
//	climb          planted feet (both heel and toe under 0.3 m/s, held    two stair steps or a ladder rung; a curb or a single step is
//	               ≥ 0.2 s) stand at heights ≥ 0.3 m apart                under 0.25 m; standing up or getting up raises the hips, not
//	                                                                      the feet, so the root's own rise would not do
//	wave           a wrist no lower than 0.1 m below its shoulder changes a wave hello rocks the wrist by 5-10 cm; a raised hand held
//	               its side-to-side direction ≥ 3 times by ≥ 4 cm          still or moved once does not count
//	turn           the facing (hips and shoulders) turns through ≥ 90°    a turn, not a veer
//	walk_backward  over a 2 s stretch: hips travel against the facing at  CMU backwards walks go 0.3-1 m/s
//	               ≥ 0.3 m/s, ≥ 0.6 of their path, the leading foot
//	               changes ≥ 0.75 times a second
//	dance          hands (about the chest) and feet (about the hips)      sustained whole-body motion in place: salsa moves hands and feet
//	               both move ≥ 0.35 m/s on average and ≥ 0.15 m/s in the  at 0.5-0.9 m/s and travels 0.2-0.4 m/s; a walk travels forward
//	               quietest second; hips travel ≤ 0.6 m/s, ≤ 0.3 m/s
//	               forward
//	sports         a wrist swings at ≥ 4 m/s about the hips               a swing, pitch, throw or shot (golf 4.2-4.7 m/s, pitches 8); a
//	                                                                      walk's arm swing 1-2, a run's 3
//	gesture        hands move ≥ 0.35 m/s about the chest while the hips   hands talk, the body stays: signals and conversations move the
//	               travel ≤ 0.45 m/s and the feet ≤ 0.25 m/s              hands at 0.5-1 m/s with the feet still
//
// Measured on the CMU takes of the project's mocap (TestRealTakes): the
// 1,830 takes of cmu_fbx and the 162 of the older folders, one conversion
// per take, labelled by the words of their descriptions; for each class
// the share of its own takes whose best 4 s window passes, and of the
// takes labelled only with other classes:
//
//	class          takes   own   others     class          takes   own   others
//	walk             476   96 %   20 %      pick_up          44   93 %    9 %
//	run              111   89 %    9 %      kick             23   91 %    9 %
//	jump             180   98 %   10 %      punch            22   82 %   15 %
//	sit               16   88 %    8 %      push             11   91 %   12 %
//	stand_up          10   80 %   19 %      climb            29   93 %    5 %
//	fall               7  100 %    4 %      wave              5   60 %   12 %
//	get_up            14  100 %   12 %      turn            157   92 %   39 %
//	crouch            25   84 %   24 %      walk_backward    45   93 %    5 %
//	dance             90   67 %   25 %      sports           50   60 %   18 %
//	gesture           32   75 %   15 %
//
// "Others" are not all wrong: a 4 s window of a long take often does the
// other thing too (CMU's "walk on uneven terrain" turns, steps high and
// waves its arms; a getting up sits first). What the rules cannot see: slow
// dance (modern dance and adagio at 0.2 m/s), a dribble (2 m/s), a shrug, a
// wave at chest height, a "run" with no flight at walking speed (111_23),
// takes whose rate is wrong in the files (16_01, 16_02 play four times too
// slow).
package checks
