package dataset

import (
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
)

// ClassNames are the action classes the builder detects, in the order the
// classes field lists them.
var ClassNames = []string{"walk", "run", "jump", "kick", "punch", "dance", "climb", "wave", "turn", "sit", "stand", "box"}

// classWords: a class is detected when any of its words (whole words of the
// cleaned description) occurs. The subject category only counts when the
// description is empty or the category names a dance: categories such as
// "run, jump, walk" or "Martial Arts Walks" describe the subject's session,
// not the trial.
var classWords = map[string][]string{
	"walk":  {"walk", "walks", "walking", "stride", "strides", "stroll", "veer", "march"},
	"run":   {"run", "runs", "running", "jog", "jogs", "jogging", "sprint"},
	"jump":  {"jump", "jumps", "jumping", "hop", "hops", "leap", "leaps", "jete", "jetes"},
	"kick":  {"kick", "kicks", "kicking"},
	"punch": {"punch", "punches", "punching", "strike"},
	"dance": {"dance", "dances", "dancing", "salsa", "ballet", "pirouette", "pirouettes", "arabesque"},
	"climb": {"climb", "climbs", "climbing"},
	"wave":  {"wave", "waves", "waving"},
	"turn":  {"turn", "turns", "turning", "tourant", "pirouette", "pirouettes", "spin", "spins"},
	"sit":   {"sit", "sits", "sitting", "seated"},
	"stand": {"stand", "stands", "standing", "rise", "balance"},
	"box":   {"box", "boxing", "boxer", "shadowbox"},
}

// gloss translates the karate terms CMU uses for subject 135 into English
// (Hepburn spellings: mawashi geri, yoko geri, oi zuki, gedan barai, shuto
// uke, heian shodan).
var gloss = map[string]string{
	"mawashigeri": "roundhouse kick",
	"yokogeri":    "side kick",
	"oiduki":      "lunge punch",
	"gedanbarai":  "downward block",
	"syutouuke":   "knife hand block",
	"heiansyodan": "heian shodan kata",
	"empi":        "empi kata",
}

var (
	spaces  = regexp.MustCompile(`\s+`)
	dashSep = regexp.MustCompile(`\s+-\s+`)
	words   = regexp.MustCompile(`[a-z']+`)
)

// CleanDescription normalises a CMU description into a caption: lower case,
// "a/b" → "a or b", "topic - detail" → "topic, detail", karate terms in
// English, single spaces, no trailing punctuation ("walk, veer left" stays).
func CleanDescription(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = dashSep.ReplaceAllString(s, ", ")
	s = strings.ReplaceAll(s, "/", " or ")
	s = words.ReplaceAllStringFunc(s, func(w string) string {
		if g, ok := gloss[w]; ok {
			return g
		}
		return w
	})
	s = spaces.ReplaceAllString(s, " ")
	return strings.Trim(s, " ,.;:-")
}

// classText is what classes are detected in: the cleaned description, plus
// the category when the description is empty or the category is a dance.
func classText(description, category string) string {
	d, c := CleanDescription(description), CleanDescription(category)
	switch {
	case d == "":
		return c
	case strings.Contains(c, "dance") || strings.Contains(c, "salsa"):
		return d + ", " + c
	}
	return d
}

// detect returns the classes found in text, ordered by first mention.
func detect(text string) []string {
	ws := words.FindAllString(text, -1)
	first := map[string]int{}
	for i := len(ws) - 1; i >= 0; i-- {
		for c, kws := range classWords {
			for _, k := range kws {
				if ws[i] == k {
					first[c] = i
				}
			}
		}
	}
	out := make([]string, 0, len(first))
	for c := range first {
		out = append(out, c)
	}
	sort.Slice(out, func(a, b int) bool {
		if first[out[a]] != first[out[b]] {
			return first[out[a]] < first[out[b]]
		}
		return classIndex(out[a]) < classIndex(out[b])
	})
	return out
}

func classIndex(c string) int {
	for i, n := range ClassNames {
		if n == c {
			return i
		}
	}
	return len(ClassNames)
}

// Classes returns the action classes of a clip, in ClassNames order.
func Classes(description, category string) []string {
	out := detect(classText(description, category))
	sort.Slice(out, func(a, b int) bool { return classIndex(out[a]) < classIndex(out[b]) })
	return out
}

// modifier adds a manner phrase to a class's templates when the cleaned
// description contains the pattern (whole words).
type modifier struct {
	pattern, phrase string
	classes         []string
}

var modifiers = []modifier{
	{"slow", "slowly", []string{"walk", "run"}},
	{"brisk", "briskly", []string{"walk"}},
	{"exaggerated stride", "with exaggerated strides", []string{"walk"}},
	{"uneven terrain", "over uneven terrain", []string{"walk"}},
	{"veer left", "and veers left", []string{"walk"}},
	{"veer right", "and veers right", []string{"walk"}},
	{"backward", "backward", []string{"walk", "run"}},
	{"sideways", "sideways", []string{"walk", "run"}},
	{"forward jump", "forward", []string{"jump"}},
	{"forward jumps", "forward", []string{"jump"}},
	{"jump down", "down", []string{"jump"}},
	{"jump up to grab", "up to grab something", []string{"jump"}},
	{"left turns", "left", []string{"turn"}},
	{"right turns", "right", []string{"turn"}},
	{"turn around", "around", []string{"turn"}},
	{"playground", "on playground equipment", []string{"climb"}},
	{"hello", "hello", []string{"wave"}},
	{"direct traffic", "while directing traffic", []string{"wave"}},
	{"salsa", "salsa", []string{"dance"}},
	{"indian dance", "in an indian style", []string{"dance"}},
}

// kinds names what a kick, punch or dance is, for "a person does a {kind}".
var kinds = []struct{ pattern, kind, class string }{
	{"roundhouse kick", "roundhouse kick", "kick"},
	{"side kick", "side kick", "kick"},
	{"front kick", "front kick", "kick"},
	{"lunge punch", "lunge punch", "punch"},
	{"salsa", "salsa dance", "dance"},
	{"indian dance", "indian dance", "dance"},
	{"modern dance", "modern dance", "dance"},
}

// template is a caption pattern: {adv} becomes the clip's manner phrase
// (with a leading space, or nothing) and {kind} its kind of kick, punch or
// dance. plain templates are used only when the clip has no manner phrase
// (they make claims, like "forward", that a phrase could contradict).
type template struct {
	text  string
	plain bool
}

var templates = map[string][]template{
	"walk": {{"a person walks{adv}", false}, {"someone is walking{adv}", false}, {"a man walks{adv}", false},
		{"a person walks forward", true}, {"someone walks at a steady pace", true}, {"a person takes a few steps forward", true}},
	"run": {{"a person runs{adv}", false}, {"someone is running{adv}", false}, {"a man runs{adv}", false},
		{"a person runs forward", true}, {"someone jogs ahead", true}},
	"jump": {{"a person jumps{adv}", false}, {"someone jumps{adv}", false}, {"a man leaps{adv}", false},
		{"someone jumps up", true}, {"a person jumps in place", true}},
	"kick": {{"a person does a {kind}", false}, {"someone performs a {kind}", false}, {"a man kicks with one leg", false},
		{"a person kicks", false}},
	"punch": {{"a person throws a {kind}", false}, {"someone punches forward", false}, {"a man punches with his fist", false},
		{"a person strikes with a punch", false}},
	"dance": {{"a person performs a {kind}", false}, {"someone dances{adv}", false}, {"a man is dancing{adv}", false},
		{"a person does a {kind}", false}},
	"climb": {{"a person climbs{adv}", false}, {"someone is climbing{adv}", false}, {"a man climbs up", true}},
	"wave": {{"a person waves{adv}", false}, {"someone waves with one hand{adv}", false}, {"a man waves his arm", true},
		{"someone waves hello", true}},
	"turn": {{"a person turns{adv}", false}, {"someone turns{adv}", false}, {"a man turns around", true},
		{"a person spins around", true}},
	"sit": {{"a person sits down", false}, {"someone sits{adv}", false}, {"a man takes a seat", false}},
	"stand": {{"a person stands{adv}", false}, {"someone is standing{adv}", false}, {"a man stands up", true},
		{"a person keeps balance while standing", true}},
	"box": {{"a person boxes", false}, {"someone is boxing", false}, {"a man throws punches like a boxer", false},
		{"a person shadowboxes", false}},
}

// verbs are the classes' third-person phrases for "a person X and then Y".
var verbs = map[string]string{
	"walk": "walks", "run": "runs", "jump": "jumps", "kick": "kicks", "punch": "punches", "dance": "dances",
	"climb": "climbs", "wave": "waves", "turn": "turns", "sit": "sits down", "stand": "stands", "box": "boxes",
}

// defaultKinds is the {kind} of a class whose description names none.
var defaultKinds = map[string]string{"kick": "kick", "punch": "punch", "dance": "dance"}

// hasPhrase reports whether the words of phrase occur consecutively in ws.
func hasPhrase(ws []string, phrase string) bool {
	p := strings.Fields(phrase)
outer:
	for i := 0; i+len(p) <= len(ws); i++ {
		for k := range p {
			if ws[i+k] != p[k] {
				continue outer
			}
		}
		return true
	}
	return false
}

// Captions returns a clip's captions: its cleaned CMU description (or its
// category when it has none), then per detected class (at most three, in
// the order the text mentions them) two templated paraphrases, then for
// several classes one sentence joining them. Template choice is seeded by
// the clip id, so a clip always gets the same captions.
func Captions(id, description, category string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	add(CleanDescription(description))
	if len(out) == 0 {
		add(CleanDescription(category))
	}
	text := classText(description, category)
	ws := words.FindAllString(text, -1)
	classes := detect(text)
	if len(classes) > 3 {
		classes = classes[:3]
	}
	h := fnv.New64a()
	h.Write([]byte("motionstudio-captions/" + id))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x63617074696f6e73))
	adv := map[string]string{}
	for _, c := range classes {
		kind := defaultKinds[c]
		for _, k := range kinds {
			if k.class == c && hasPhrase(ws, k.pattern) {
				kind = k.kind
				break
			}
		}
		for _, m := range modifiers {
			if hasPhrase(ws, m.pattern) && contains(m.classes, c) && adv[c] == "" {
				adv[c] = " " + m.phrase
			}
		}
		var usable []string
		for _, t := range templates[c] {
			if t.plain && adv[c] != "" {
				continue
			}
			usable = append(usable, strings.NewReplacer("{adv}", adv[c], "{kind}", kind).Replace(t.text))
		}
		rng.Shuffle(len(usable), func(a, b int) { usable[a], usable[b] = usable[b], usable[a] })
		for _, s := range usable[:min(2, len(usable))] {
			add(s)
		}
	}
	if len(classes) >= 2 {
		parts := make([]string, len(classes))
		for i, c := range classes {
			parts[i] = verbs[c] + adv[c]
		}
		add("a person " + strings.Join(parts[:len(parts)-1], ", ") + " and then " + parts[len(parts)-1])
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sideWord matches the words a left-right mirror changes.
var sideWord = regexp.MustCompile(`(?i)\b(left|right|counterclockwise|anticlockwise|clockwise)\b`)

var sideSwap = map[string]string{
	"left": "right", "right": "left",
	"clockwise": "counterclockwise", "counterclockwise": "clockwise", "anticlockwise": "clockwise",
}

// MirrorText swaps left and right (and clockwise turns) in a caption, for
// the mirrored copy of a clip: "walk, veer left" → "walk, veer right".
// The first letter's case is kept.
func MirrorText(s string) string {
	return sideWord.ReplaceAllStringFunc(s, func(w string) string {
		r := sideSwap[strings.ToLower(w)]
		if w[0] >= 'A' && w[0] <= 'Z' {
			r = strings.ToUpper(r[:1]) + r[1:]
		}
		return r
	})
}
