package checks

// upright: the head well above the hips (not lying).
func (tr *track) upright(t int) bool { return tr.h(jHead, t)-tr.h(jHips, t) >= 0.3 }

func sit(tr *track, a, b int) verdict {
	low := SeatedHips * tr.stand
	seated := longest(a, b, func(t int) bool { return tr.h(jHips, t) <= low && tr.upright(t) })
	perched := longest(a, b, func(t int) bool { return tr.feetUp(t, a, b) })
	return anyOf(
		is(at("seated_s", float64(seated)/tr.fps, 0.5, "hips low, head above them, for %.2f s")),
		is(at("perched_s", float64(perched)/tr.fps, 1, "both feet off the floor, hips still, for %.2f s")),
	)
}

// Postures, from the skeleton's standing hip height (stand).
const (
	SeatedHips   = 0.75 // hips at most this share of stand: seated or crouched
	StandingHips = 0.85 // hips at least this share: standing
	DownHips     = 0.45 // hips at most this share: on the ground
	CrouchHips   = 0.80 // hips at most this share, feet planted: crouched
	CrouchHead   = 0.80 // or the head at most this share of its rest height
)

// lying: the head no higher than 0.2 m above the hips (the torso within
// about 20° of flat), wherever the body lies (CMU's get-ups from a bed
// lie 0.9 m above the floor).
func (tr *track) lying(t int) bool { return tr.h(jHead, t)-tr.h(jHips, t) <= 0.2 }

// lowness is the hips' height above the floor, 0 while lying.
func (tr *track) lowness(t int) float64 {
	if tr.lying(t) {
		return 0
	}
	return tr.h(jHips, t)
}

// feetUp: both feet off the floor while the hips stay still (under 0.2
// m/s), which a body does only with its weight on something else.
func (tr *track) feetUp(t, a, b int) bool {
	return !tr.onFloor(0, t) && !tr.onFloor(1, t) && tr.vel(jHips, t, a, b).Len() < 0.2
}

// perched: both feet off the floor with the hips still for 0.5 s: the
// weight is on a seat (a high stool keeps the hips at standing height).
func (tr *track) perched(a, b int) []bool {
	out := make([]bool, b-a)
	for _, r := range runs(a, b, func(t int) bool { return tr.feetUp(t, a, b) }) {
		if r[1]-r[0] >= tr.frames(0.5) {
			for t := r[0]; t < r[1]; t++ {
				out[t-a] = true
			}
		}
	}
	return out
}

func standUp(tr *track, a, b int) verdict {
	p := tr.perched(a, b)
	_, _, lo, hi := rise(a, b, func(t int) float64 {
		if p[t-a] {
			return 0 // seated on a high seat
		}
		return tr.h(jHips, t)
	})
	return all(
		is(atMost("hips_low_m", lo, SeatedHips*tr.stand, "hips %.2f m above the floor before rising (0 perched on a seat)")),
		is(at("hips_high_m", hi, StandingHips*tr.stand, "hips rise to %.2f m")),
	)
}

func getUp(tr *track, a, b int) verdict {
	_, _, lo, hi := rise(a, b, tr.lowness)
	return all(
		is(atMost("hips_low_m", lo, DownHips*tr.stand, "hips %.2f m above the floor before rising (0 lying)")),
		is(at("hips_high_m", hi, StandingHips*tr.stand, "hips rise to %.2f m")),
	)
}

func fall(tr *track, a, b int) verdict {
	t1, t2, hi, lo := drop(a, b, tr.lowness)
	// On the way down, and the half second after: lying counts as down
	// before the hips have landed.
	_, speed := peak(t1, min(b, t2+tr.frames(0.5)), func(t int) float64 { return -tr.vel(jHips, t, a, b)[1] })
	return all(
		is(at("hips_high_m", hi, StandingHips*tr.stand, "hips %.2f m above the floor before falling")),
		is(atMost("hips_low_m", lo, DownHips*tr.stand, "hips %.2f m above the floor at their lowest (0 lying)")),
		is(at("drop_speed_mps", speed, 1.0, "hips drop at up to %.2f m/s on the way down")),
	)
}

func crouch(tr *track, a, b int) verdict {
	n := longest(a, b, func(t int) bool {
		low := tr.h(jHips, t) <= CrouchHips*tr.stand || tr.h(jHead, t) <= CrouchHead*tr.head
		return low && (tr.onFloor(0, t) || tr.onFloor(1, t)) && !tr.lying(t) && !tr.air[t]
	})
	return is(at("crouched_s", float64(n)/tr.fps, 0.2, "body lowered, on its feet, not lying, for %.2f s"))
}
