package dataset

import (
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
)

// ClassNames are the action classes the builder detects, in the order the
// classes field lists them (issue 28's list: what animators ask for).
var ClassNames = []string{"walk", "run", "jump", "sit", "stand_up", "fall", "get_up", "crouch", "pick_up",
	"kick", "punch", "push", "climb", "wave", "turn", "walk_backward", "dance", "sports", "gesture"}

// classPatterns: a class is detected where its pattern (a regular
// expression over the cleaned description's words, each word boundary
// explicit) matches; the match's position orders the classes by first
// mention. The subject category only counts when the description is empty
// or the category names a dance: categories such as "run, jump, walk" or
// "Martial Arts Walks" describe the subject's session, not the trial.
// "get up" is stand_up from a seat and get_up from the floor; "box" alone
// is a cardboard box, not boxing.
var classPatterns = map[string]*regexp.Regexp{
	"walk": classRE(`walk|walks|walking|walked|stride|strides|stroll|strolls|strolling|veer|march|marches|marching|` +
		`sneak|sneaking|tiptoe|tiptoes|limp|limping|stagger|staggering|creeping|sidestep|sidesteps|step|steps|stepping`),
	"run":  classRE(`run|runs|running|jog|jogs|jogging|sprint|sprints|sprinting`),
	"jump": classRE(`jump|jumps|jumping|hop|hops|hopping|leap|leaps|leaping|jete|jetes|skip|skipping`),
	"sit":  classRE(`sit|sits|sitting|seated|take a seat|sit down|sits down`),
	"stand_up": classRE(`stand up|stands up|standing up|rise|rises|` +
		`(get|gets|getting) up from (a |the )?(chair|stool|seat|bench)|(sit|sits|sitting) (in chair |on stool )?(down )?and (get|gets) up`),
	"fall": classRE(`fall|falls|falling|fell|collapse|collapses|faint|faints|trip|trips|tumble|tumbles|` +
		`(lay|lays|laying|lie|lies|lying) down|(laying|lying) on`),
	"get_up": classRE(`(get|gets|getting) up (from (the )?(floor|ground)|laying|lying|face down)|` +
		`(laying|lying|lay) down,? (on back, )?(and )?(get|gets|getting) up|(get|gets|getting) up from laying`),
	"crouch":  classRE(`crouch|crouches|crouched|crouching|squat|squats|squatting|kneel|kneels|kneeling|duck (under|underneath|to)`),
	"pick_up": classRE(`(pick|picks|picking) (\w+ )?up|scoop up|bend, lift`),
	"kick":    classRE(`kick|kicks|kicking|kicked`),
	"punch":   classRE(`punch|punches|punching|jab|jabs|strike|boxing|boxer|shadowbox|shadowboxing`),
	"push":    classRE(`push|pushes|pushing|shove|shoves`),
	"climb":   classRE(`climb|climbs|climbing|ladder|(up|down) (and down )?stairs|stepping up`),
	"wave":    classRE(`wave|waves|waving|direct traffic`),
	"turn":    classRE(`turn|turns|turning|tourant|pirouette|pirouettes|spin|spins|spinning|pivot|twirl`),
	"walk_backward": classRE(`(walk|walks|walking|step|steps|stepping|run|jog) (\w+ ){0,2}(backward|backwards)|` +
		`backward walk|backwards walk|walk forward, backward`),
	"dance": classRE(`dance|dances|dancing|salsa|ballet|pirouette|pirouettes|arabesque|charleston|breakdance|` +
		`jete|jetes|glissade|tango|waltz|twist`),
	"sports": classRE(`basketball|soccer|football|golf|baseball|tennis|volleyball|dribble|dribbles|dribbling|` +
		`shoot|shoots|putt|putts|pitch|bunt|bowling|frisbee|swim|swimming|racquet|hockey|jumping jacks|throw and catch|catch and throw|stroke|throwing|throw$|toss|tosses|tossing|cartwheel|cartwheels|flip|backflip|handstand|handstands|lunges`),
	"gesture": classRE(`gesture|gestures|signal|signals|signaling|point|points|pointing|clap|claps|clapping|` +
		`shrug|shrugs|nod|nods|bow|bows|salute|salutes|beckon|conversation|explain|explains|argue|arguing|shake hands|hand shake|high five|curtsey|peek a boo|peekaboo|talk|talking`),
}

func classRE(alternatives string) *regexp.Regexp {
	return regexp.MustCompile(`\b(` + alternatives + `)\b`)
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
	spaces   = regexp.MustCompile(`\s+`)
	dashSep  = regexp.MustCompile(`\s+-\s+`)
	words    = regexp.MustCompile(`[a-z']+`)
	subjects = regexp.MustCompile(`\((2 )?subjects? - subject [ab]\)`) // two-person takes' note
	numbered = regexp.MustCompile(`([a-z])_?[0-9]+\b`)                 // "front_kicking001"
)

// gluedStems are the action words CMU's file-like descriptions glue to
// others ("acheywalk", "jumpforward", "kickflipstumble").
var gluedStems = []string{"walk", "jump", "turn", "kick", "punch", "jog", "flip", "stumble", "forward", "through"}

// inflection is what may follow a stem inside one word without gluing.
var inflection = map[string]bool{"": true, "s": true, "es": true, "ed": true, "ing": true, "er": true, "ers": true,
	"ning": true, "ped": true, "ping": true, "ling": true, "d": true, "ger": true, "ging": true, "ged": true}

// unglue splits a word at the action stems glued into it; a stem followed
// only by an inflection ("walking", "kicks") is one word.
func unglue(w string) string {
	for _, st := range gluedStems {
		i := strings.Index(w, st)
		if i < 0 || len(w) == len(st) {
			continue
		}
		before, after := w[:i], w[i+len(st):]
		if before == "" && inflection[after] {
			continue
		}
		parts := []string{}
		if before != "" {
			parts = append(parts, unglue(before))
		}
		parts = append(parts, st)
		if after != "" && !inflection[after] {
			parts = append(parts, unglue(after))
		} else {
			parts[len(parts)-1] += after
		}
		return strings.Join(parts, " ")
	}
	return w
}

// CleanDescription normalises a CMU description into a caption: lower case,
// "a/b" → "a or b", "topic - detail" → "topic, detail", karate terms in
// English, single spaces, no trailing punctuation ("walk, veer left" stays).
func CleanDescription(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = subjects.ReplaceAllString(s, "")
	s = numbered.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "_", " ")
	s = dashSep.ReplaceAllString(s, ", ")
	s = strings.ReplaceAll(s, "/", " or ")
	s = words.ReplaceAllStringFunc(s, func(w string) string {
		if g, ok := gloss[w]; ok {
			return g
		}
		return unglue(w)
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

// detect returns the classes found in text, ordered by first mention. A
// backward walk is not also a walk unless the text walks forward too.
func detect(text string) []string {
	first := map[string]int{}
	for c, re := range classPatterns {
		if loc := re.FindStringIndex(text); loc != nil {
			first[c] = loc[0]
		}
	}
	if _, back := first["walk_backward"]; back && !forward.MatchString(text) {
		delete(first, "walk")
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

var forward = regexp.MustCompile(`\b(walk|walks|walking) forward\b|\bforward,`)

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
	{"slow", "slowly", []string{"walk", "run", "walk_backward", "sit", "fall"}},
	{"slowly", "slowly", []string{"walk", "run", "walk_backward", "sit"}},
	{"fast", "fast", []string{"walk", "run", "walk_backward"}},
	{"quick", "quickly", []string{"walk", "run", "walk_backward"}},
	{"brisk", "briskly", []string{"walk"}},
	{"careful", "carefully", []string{"walk", "run", "sit", "get_up"}},
	{"exaggerated stride", "with exaggerated strides", []string{"walk"}},
	{"uneven terrain", "over uneven terrain", []string{"walk", "run"}},
	{"veer left", "and veers left", []string{"walk"}},
	{"veer right", "and veers right", []string{"walk"}},
	{"sideways", "sideways", []string{"walk", "run", "jump"}},
	{"on toes", "on tiptoes", []string{"walk", "walk_backward"}},
	{"crouched", "crouched", []string{"walk", "walk_backward"}},
	{"in a circle", "in a circle", []string{"walk", "run"}},
	{"in circle", "in a circle", []string{"walk", "run"}},
	{"limp", "with a limp", []string{"walk"}},
	{"limping", "with a limp", []string{"walk"}},
	{"drunk", "like a drunk", []string{"walk", "pick_up"}},
	{"old man", "like an old man", []string{"walk", "pick_up", "sit"}},
	{"angry", "angrily", []string{"walk", "punch"}},
	{"anger", "angrily", []string{"walk"}},
	{"sad", "sadly", []string{"walk"}},
	{"happy", "happily", []string{"walk", "jump"}},
	{"sneaking", "sneakily", []string{"walk"}},
	{"march", "like a soldier", []string{"walk"}},
	{"marching", "like a soldier", []string{"walk"}},
	{"forward jump", "forward", []string{"jump"}},
	{"forward jumps", "forward", []string{"jump"}},
	{"jump forward", "forward", []string{"jump"}},
	{"jump down", "down", []string{"jump"}},
	{"jump up to grab", "up to grab something", []string{"jump"}},
	{"one foot", "on one foot", []string{"jump"}},
	{"left turns", "left", []string{"turn"}},
	{"right turns", "right", []string{"turn"}},
	{"turn left", "left", []string{"turn"}},
	{"turn right", "right", []string{"turn"}},
	{"turn around", "around", []string{"turn"}},
	{"in place", "in place", []string{"turn", "jump", "run"}},
	{"playground", "on playground equipment", []string{"climb"}},
	{"ladder", "up a ladder", []string{"climb"}},
	{"stairs", "up the stairs", []string{"climb"}},
	{"stool", "on a stool", []string{"sit", "stand_up"}},
	{"chair", "on a chair", []string{"sit"}},
	{"from chair", "from a chair", []string{"stand_up"}},
	{"face", "on his face", []string{"fall"}},
	{"on back", "on his back", []string{"fall"}},
	{"from floor", "from the floor", []string{"get_up"}},
	{"from ground", "from the ground", []string{"get_up"}},
	{"box", "a box", []string{"pick_up", "push"}},
	{"ball", "a ball", []string{"pick_up"}},
	{"heavy", "something heavy", []string{"push"}},
	{"broom", "a broom", []string{"push"}},
	{"swing", "a swing", []string{"push"}},
	{"hello", "hello", []string{"wave"}},
	{"direct traffic", "while directing traffic", []string{"wave"}},
	{"salsa", "salsa", []string{"dance"}},
	{"indian dance", "in an indian style", []string{"dance"}},
	{"with hand gestures", "with his hands", []string{"gesture"}},
}

// kinds names what a kick, punch, dance or sport is, for "a person does a {kind}".
var kinds = []struct{ pattern, kind, class string }{
	{"roundhouse kick", "roundhouse kick", "kick"},
	{"side kick", "side kick", "kick"},
	{"front kick", "front kick", "kick"},
	{"spin kick", "spin kick", "kick"},
	{"jump kick", "jump kick", "kick"},
	{"lunge punch", "lunge punch", "punch"},
	{"boxing", "series of boxing punches", "punch"},
	{"salsa", "salsa dance", "dance"},
	{"indian dance", "indian dance", "dance"},
	{"modern dance", "modern dance", "dance"},
	{"ballet", "ballet dance", "dance"},
	{"charleston", "charleston dance", "dance"},
	{"breakdance", "breakdance", "dance"},
	{"chicken dance", "chicken dance", "dance"},
	{"basketball", "basketball move", "sports"},
	{"dribble", "basketball dribble", "sports"},
	{"soccer", "soccer kick", "sports"},
	{"golf", "golf swing", "sports"},
	{"putt", "golf putt", "sports"},
	{"baseball", "baseball swing", "sports"},
	{"pitch", "baseball pitch", "sports"},
	{"football", "football throw", "sports"},
	{"toss", "ball toss", "sports"},
	{"throw", "throw", "sports"},
	{"throwing", "throw", "sports"},
	{"jumping jacks", "set of jumping jacks", "sports"},
}

// template is a caption pattern: {adv} becomes the clip's manner phrase
// (with a leading space, or nothing) and {kind} its kind of kick, punch,
// dance or sport. plain templates are used only when the clip has no
// manner phrase (they make claims, like "forward", that a phrase could
// contradict).
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
	"sit": {{"a person sits down{adv}", false}, {"someone sits{adv}", false}, {"a man takes a seat", true},
		{"a person sits down on a chair", true}},
	"stand_up": {{"a person stands up{adv}", false}, {"someone gets up{adv}", false}, {"a man rises to his feet", true},
		{"a person stands up from a chair", true}},
	"fall": {{"a person falls down{adv}", false}, {"someone falls to the ground", true}, {"a man lies down on the floor", true},
		{"a person collapses", true}},
	"get_up": {{"a person gets up{adv}", false}, {"someone gets up from the floor", true}, {"a man rises from the ground", true},
		{"a person lying down gets back up", true}},
	"crouch": {{"a person crouches down", false}, {"someone squats", false}, {"a man kneels down", false},
		{"a person ducks down low", false}},
	"pick_up": {{"a person picks up{adv}", false}, {"someone bends down and picks something up", true},
		{"a man picks an object up from the floor", true}, {"a person lifts something from the ground", true}},
	"kick": {{"a person does a {kind}", false}, {"someone performs a {kind}", false}, {"a man kicks with one leg", false},
		{"a person kicks", false}},
	"punch": {{"a person throws a {kind}", false}, {"someone punches forward", false}, {"a man punches with his fist", false},
		{"a person strikes with a punch", false}},
	"push":  {{"a person pushes{adv}", false}, {"someone pushes something away", true}, {"a man pushes with both hands", true}},
	"climb": {{"a person climbs{adv}", false}, {"someone is climbing{adv}", false}, {"a man climbs up", true}},
	"wave": {{"a person waves{adv}", false}, {"someone waves with one hand{adv}", false}, {"a man waves his arm", true},
		{"someone waves hello", true}},
	"turn": {{"a person turns{adv}", false}, {"someone turns{adv}", false}, {"a man turns around", true},
		{"a person spins around", true}},
	"walk_backward": {{"a person walks backwards{adv}", false}, {"someone steps backward{adv}", false},
		{"a man walks backward", true}, {"a person backs up", true}},
	"dance": {{"a person performs a {kind}", false}, {"someone dances{adv}", false}, {"a man is dancing{adv}", false},
		{"a person does a {kind}", false}},
	"sports": {{"a person makes a {kind}", false}, {"someone plays sports", false}, {"an athlete does a {kind}", false}},
	"gesture": {{"a person gestures{adv}", false}, {"someone talks with hand gestures", true}, {"a man makes a gesture", true},
		{"a person signals with his arms", true}},
}

// verbs are the classes' third-person phrases for "a person X and then Y".
var verbs = map[string]string{
	"walk": "walks", "run": "runs", "jump": "jumps", "sit": "sits down", "stand_up": "stands up", "fall": "falls down",
	"get_up": "gets up", "crouch": "crouches", "pick_up": "picks something up", "kick": "kicks", "punch": "punches",
	"push": "pushes", "climb": "climbs", "wave": "waves", "turn": "turns", "walk_backward": "walks backwards",
	"dance": "dances", "sports": "plays sports", "gesture": "gestures",
}

// defaultKinds is the {kind} of a class whose description names none.
var defaultKinds = map[string]string{"kick": "kick", "punch": "punch", "dance": "dance", "sports": "sports move"}

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
		var usable []string
		adv[c], usable = paraphrases(c, ws)
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

// paraphrases fills class c's templates for a description of words ws:
// its manner phrase (with a leading space, or "") and every usable
// template, in the templates' order.
func paraphrases(c string, ws []string) (adv string, usable []string) {
	kind := kindOf(c, ws)
	for _, m := range modifiers {
		if hasPhrase(ws, m.pattern) && contains(m.classes, c) {
			adv = " " + m.phrase
			break
		}
	}
	for _, t := range templates[c] {
		if t.plain && adv != "" {
			continue
		}
		usable = append(usable, strings.NewReplacer("{adv}", adv, "{kind}", kind).Replace(t.text))
	}
	return adv, usable
}

// kindOf is the kind of kick, punch, dance or sport that words ws name
// for class c (its default kind when none; "" for other classes).
func kindOf(c string, ws []string) string {
	for _, k := range kinds {
		if k.class == c && hasPhrase(ws, k.pattern) {
			return k.kind
		}
	}
	return defaultKinds[c]
}

// Kind is the kind of class's action a take's description names ("golf
// swing", "ball toss" for sports; "" for classes without kinds).
func Kind(description, category, class string) string {
	return kindOf(class, words.FindAllString(classText(description, category), -1))
}

// ClassCaptions are the captions of one of a take's classes alone: every
// paraphrase of that class, then the take's cleaned description. A
// retrieval bank entry cut where the take shows that class carries them.
func ClassCaptions(description, category, class string) []string {
	ws := words.FindAllString(classText(description, category), -1)
	_, out := paraphrases(class, ws)
	if d := CleanDescription(description); d != "" {
		return append(out, d)
	}
	return append(out, CleanDescription(category))
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
