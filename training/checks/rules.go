package checks

// rules: one check per class, in the model's class order. The doc
// comment of the package gives each rule and why its limits.
var rules = []struct {
	class string
	check rule
}{
	{"walk", walk}, {"run", run}, {"jump", jump}, {"sit", sit}, {"stand_up", standUp},
	{"fall", fall}, {"get_up", getUp}, {"crouch", crouch}, {"pick_up", pickUp},
	{"kick", kick}, {"punch", punch}, {"push", push}, {"climb", climb}, {"wave", wave},
	{"turn", turn}, {"walk_backward", walkBackward}, {"dance", dance}, {"sports", sports},
	{"gesture", gesture},
}

func at(name string, v, limit float64, text string) Measure {
	return Measure{Name: name, Value: v, Limit: limit, AtLeast: true, text: text}
}

func atMost(name string, v, limit float64, text string) Measure {
	return Measure{Name: name, Value: v, Limit: limit, text: text}
}

func ratio(x, y float64) float64 {
	if y <= 0 {
		return 0
	}
	return x / y
}

func hips(tr *track) func(t int) float64 { return func(t int) float64 { return tr.h(jHips, t) } }
