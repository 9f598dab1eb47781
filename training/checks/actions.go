package checks

import "math"

func pickUp(tr *track, a, b int) verdict {
	_, hi := peak(a, b, func(t int) float64 { return -min(tr.h(jLHand, t), tr.h(jRHand, t)) })
	return is(atMost("hand_low_m", -hi, 0.45, "a hand %.2f m above the floor at its lowest"))
}

// kickFeet: per foot, its heel, toe and hip joints and the other foot.
var kickFeet = [2][4]int{{jLHeel, jLToe, jLHip, 1}, {jRHeel, jRToe, jRHip, 0}}

func kick(tr *track, a, b int) verdict {
	w := tr.frames(0.25)
	return bestFrame(a, b, func(t int) verdict {
		var vs []verdict
		for _, f := range kickFeet {
			height := 0.0 // only while the other foot stands
			if tr.onFloor(f[3], t) {
				height = max(tr.h(f[0], t), tr.h(f[1], t))
			}
			reach := tr.pos[f[0]][t].Sub(tr.pos[f[2]][t]).Len() / tr.leg
			_, speed := peak(max(a, t-w), min(b, t+w+1), func(u int) float64 { return tr.relVel(f[1], jHips, u, a, b).Len() })
			vs = append(vs, all(
				is(at("foot_height_m", height, 0.5, "a foot %.2f m above the floor, the other on it")),
				is(at("leg_extension", reach, 0.8, "the leg reaches %.2f of its length")),
				is(at("foot_speed_mps", speed, 2.5, "the kicking foot moves at %.2f m/s")),
			))
		}
		return anyOf(vs...)
	})
}

func punch(tr *track, a, b int) verdict {
	hands := [2][2]int{{jLHand, jLShoulder}, {jRHand, jRShoulder}}
	return bestFrame(a, b, func(t int) verdict {
		var vs []verdict
		for _, h := range hands {
			speed := tr.relVel(h[0], jChest, t, a, b).Dot(tr.facing[t])
			w := tr.frames(0.2)
			_, reach := peak(t, min(b, t+w+1), func(u int) float64 { return tr.pos[h[0]][u].Sub(tr.pos[h[1]][u]).Len() / tr.arm })
			vs = append(vs, all(
				is(at("hand_forward_speed_mps", speed, 3, "a hand moves forward from the chest at %.2f m/s")),
				is(at("arm_extension", reach, 0.8, "the arm then reaches %.2f of its length")),
			))
		}
		return anyOf(vs...)
	})
}

func push(tr *track, a, b int) verdict {
	n := longest(a, b, func(t int) bool {
		for _, h := range []int{jLHand, jRHand} {
			dy := math.Abs(tr.h(h, t) - tr.h(jChest, t))
			if tr.ahead(h, t) < 0.35 || dy > 0.4 {
				return false
			}
		}
		return true
	})
	return is(at("hands_forward_s", float64(n)/tr.fps, 0.3, "both hands forward at chest height for %.2f s"))
}

func wave(tr *track, a, b int) verdict {
	best := 0
	for _, h := range [2][2]int{{jLHand, jLShoulder}, {jRHand, jRShoulder}} {
		up := func(t int) bool { return tr.h(h[0], t) >= tr.h(h[1], t)-0.1 }
		for _, r := range runs(a, b, up) {
			side := reversals(r[0], r[1], func(t int) float64 {
				return tr.pos[h[0]][t].Sub(tr.pos[jChest][t]).Dot(tr.across(t))
			}, 0.04)
			best = max(best, side)
		}
	}
	return is(at("hand_reversals", float64(best), 3, "a raised hand changes side-to-side direction %.0f times"))
}

// reversals counts the changes of direction of x, each once x has come
// back at least amp from its last extreme (the first move sets the
// direction and does not count).
func reversals(a, b int, x func(t int) float64, amp float64) int {
	if b-a < 2 {
		return 0
	}
	n, dir := 0, 0
	lo, hi := x(a), x(a)
	for t := a + 1; t < b; t++ {
		v := x(t)
		lo, hi = min(lo, v), max(hi, v)
		switch {
		case dir >= 0 && hi-v >= amp:
			if dir > 0 {
				n++
			}
			dir, lo = -1, v
		case dir <= 0 && v-lo >= amp:
			if dir < 0 {
				n++
			}
			dir, hi = 1, v
		}
	}
	return n
}

// limbs is the mean speed of the hands about the chest and of the feet
// about the hips, the lower of the two (m/s): the whole body moves only
// when both do.
func (tr *track) limbs(a, b int) float64 {
	hands := (tr.meanSpeed(jLHand, jChest, a, b) + tr.meanSpeed(jRHand, jChest, a, b)) / 2
	feet := (tr.meanSpeed(jLToe, jHips, a, b) + tr.meanSpeed(jRToe, jHips, a, b)) / 2
	return min(hands, feet)
}

func dance(tr *track, a, b int) verdict {
	fwd, path := tr.travel(a, b)
	// Sustained: the quietest second of the window still moves.
	quiet := tr.limbs(a, b)
	for s, w := a, tr.frames(1); s+w <= b; s += w {
		quiet = min(quiet, tr.limbs(s, s+w))
	}
	return all(
		is(at("limb_speed_mps", tr.limbs(a, b), 0.35, "hands and feet move at %.2f m/s about the body")),
		is(at("quietest_second_mps", quiet, 0.15, "hands and feet move at %.2f m/s in the quietest second")),
		is(atMost("path_speed_mps", ratio(path, tr.seconds(a, b)), 0.6, "hips travel at %.2f m/s")),
		is(atMost("forward_speed_mps", ratio(fwd, tr.seconds(a, b)), 0.3, "hips travel forward at %.2f m/s (a walk: 0.4 and more)")),
	)
}

func sports(tr *track, a, b int) verdict {
	_, swing := peak(a, b, func(t int) float64 {
		return max(tr.relVel(jLHand, jHips, t, a, b).Len(), tr.relVel(jRHand, jHips, t, a, b).Len())
	})
	return is(at("hand_speed_mps", swing, 4, "a hand swings at %.2f m/s about the hips"))
}

// footSpeed is the feet's mean speed over the floor (m/s).
func (tr *track) footSpeed(a, b int) float64 {
	return (tr.meanSpeed(jLToe, -1, a, b) + tr.meanSpeed(jRToe, -1, a, b)) / 2
}

func gesture(tr *track, a, b int) verdict {
	_, path := tr.travel(a, b)
	s := tr.seconds(a, b)
	hands := (tr.meanSpeed(jLHand, jChest, a, b) + tr.meanSpeed(jRHand, jChest, a, b)) / 2
	return all(
		is(at("hand_speed_mps", hands, 0.35, "hands move at %.2f m/s about the chest")),
		is(atMost("path_speed_mps", ratio(path, s), 0.45, "hips travel at %.2f m/s")),
		is(atMost("foot_speed_mps", tr.footSpeed(a, b), 0.25, "feet move at %.2f m/s")),
	)
}
