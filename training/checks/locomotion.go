package checks

import "math"

// steps per second of [a, b).
func (tr *track) stepRate(a, b int) float64 {
	return ratio(float64(tr.steps(a, b)), tr.seconds(a, b))
}

func walk(tr *track, a, b int) verdict {
	return tr.stretch(a, b, 2, func(tr *track, a, b int) verdict {
		fwd, path := tr.travel(a, b)
		return all(
			is(at("forward_speed_mps", ratio(fwd, tr.seconds(a, b)), 0.4, "hips travel forward at %.2f m/s")),
			is(at("forward_share", ratio(fwd, path), 0.7, "%.2f of the hips' path is along the facing")),
			is(at("steps_per_s", tr.stepRate(a, b), 0.9, "the leading foot changes %.2f times a second")),
			is(atMost("airborne_s", float64(tr.count(a, b, tr.airborne))/tr.fps, 0.1, "both feet off the ground for %.2f s")),
		)
	})
}

func run(tr *track, a, b int) verdict {
	return tr.stretch(a, b, 1.5, func(tr *track, a, b int) verdict {
		return all(
			is(at("steps_per_s", tr.stepRate(a, b), 1.3, "the leading foot changes %.2f times a second")),
			anyOf(
				is(at("net_speed_mps", ratio(tr.net(a, b), tr.seconds(a, b)), 2.0, "hips travel at %.2f m/s")),
				is(at("flights", float64(tr.flights(a, b)), 2, "%.0f flight phases (both feet off the ground, hips falling)")),
			),
		)
	})
}

func jump(tr *track, a, b int) verdict {
	minFlight := tr.frames(0.1)
	longestFlight, lift := 0, math.Inf(-1)
	for _, r := range runs(a, b, tr.airborne) {
		longestFlight = max(longestFlight, r[1]-r[0])
		if r[1]-r[0] >= minFlight {
			_, hi := peak(r[0], r[1], hips(tr))
			lift = max(lift, hi-tr.stand)
		}
	}
	if math.IsInf(lift, -1) {
		_, hi := peak(a, b, hips(tr))
		lift = hi - tr.stand
	}
	return all(
		is(at("flight_s", float64(longestFlight)/tr.fps, float64(minFlight)/tr.fps, "both feet off the ground for %.2f s")),
		is(at("hips_lift_m", lift, 0.08, "hips %.2f m above standing height in the air")),
	)
}

// support is the height of the lower foot while it stands still: where the
// body stands at frame t; NaN while no foot is planted.
func (tr *track) support(t, a, b int) float64 {
	v := math.NaN()
	for f, js := range [2][2]int{{jLHeel, jLToe}, {jRHeel, jRToe}} {
		if tr.vel(js[0], t, a, b).Len() < 0.3 && tr.vel(js[1], t, a, b).Len() < 0.3 {
			if h := tr.lift[f][t]; math.IsNaN(v) || h < v {
				v = h
			}
		}
	}
	return v
}

func climb(tr *track, a, b int) verdict {
	hold := tr.frames(0.2)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range runs(a, b, func(t int) bool { return !math.IsNaN(tr.support(t, a, b)) }) {
		if r[1]-r[0] < hold {
			continue
		}
		for t := r[0]; t < r[1]; t++ {
			s := tr.support(t, a, b)
			lo, hi = min(lo, s), max(hi, s)
		}
	}
	spread := 0.0
	if hi > lo {
		spread = hi - lo
	}
	return is(at("support_spread_m", spread, 0.3, "the feet stand at heights %.2f m apart"))
}

func turn(tr *track, a, b int) verdict {
	_, hi := peak(a, b, func(t int) float64 { return tr.heading[t] })
	_, nlo := peak(a, b, func(t int) float64 { return -tr.heading[t] })
	return is(at("heading_change_deg", deg(hi+nlo), 90, "the facing turns through %.0f°"))
}

func walkBackward(tr *track, a, b int) verdict {
	return tr.stretch(a, b, 2, func(tr *track, a, b int) verdict {
		fwd, path := tr.travel(a, b)
		return all(
			is(at("backward_speed_mps", ratio(-fwd, tr.seconds(a, b)), 0.3, "hips travel backwards at %.2f m/s")),
			is(at("backward_share", ratio(-fwd, path), 0.6, "%.2f of the hips' path is against the facing")),
			is(at("steps_per_s", tr.stepRate(a, b), 0.75, "the leading foot changes %.2f times a second")),
		)
	})
}
