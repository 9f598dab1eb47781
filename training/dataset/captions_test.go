package dataset

import (
	"slices"
	"strings"
	"testing"
)

func TestClasses(t *testing.T) {
	cases := []struct {
		desc, cat string
		want      []string
	}{
		{"walk, veer left", "run, jump, walk", []string{"walk"}}, // category ignored
		{"slow walk/stride", "walk", []string{"walk"}},
		{"run/jog", "various expressions and human behaviors", []string{"run"}},
		{"playground - forward jumps, turn around", "climb, swing, hang on playground equipment", []string{"jump", "turn"}},
		{"playground - climb, sit, dangle legs, rock back, lower self to ground", "", []string{"sit", "climb"}},
		{"salsa dance", "salsa", []string{"dance"}},
		{"", "indian dance", []string{"dance"}},
		{"Mawashigeri", "Martial Arts Walks", []string{"kick"}},
		{"Oiduki", "Martial Arts Walks", []string{"punch"}},
		{"Gedanbarai", "Martial Arts Walks", []string{}},
		{"punch/strike", "", []string{"punch"}},
		{"direct traffic, wave", "various everyday behaviors", []string{"wave"}},
		{"dance - coupe dessous, grand jete en tourant", "modern dance", []string{"jump", "turn", "dance"}},
		{"basketball - forward dribble, 90-degree left turns", "dribble, shoot basketball", []string{"turn", "sports"}},
		{"shadowbox, then sit down and stand up", "", []string{"sit", "stand_up", "punch"}},
		{"sit in chair and get up", "", []string{"sit", "stand_up"}},
		{"get up from floor", "", []string{"get_up"}},
		{"laying down, getting up, careful ready pose", "", []string{"fall", "get_up"}},
		{"fall on face", "", []string{"fall"}},
		{"walk backwards", "", []string{"walk_backward"}},                                           // not also a walk
		{"navigate - walk forward, backward, on a diagonal", "", []string{"walk", "walk_backward"}}, // both
		{"walk up to object, squat, pick up object, set down in another place", "", []string{"walk", "crouch", "pick_up"}},
		{"pick box up, bend from waist", "", []string{"pick_up"}},
		{"moving heavy box", "", []string{}}, // a cardboard box is not boxing
		{"push heavy object", "", []string{"push"}},
		{"walk up stairs and over", "", []string{"walk", "climb"}},
		{"duck under", "", []string{"crouch"}},
		{"underhand toss", "", []string{"sports"}},
		{"throwing", "", []string{"sports"}},
		{"throw", "", []string{"sports"}},
		{"throw punches, yawn", "", []string{"punch"}}, // a punch, not a ball
		{"walk; b catches keys thrown by a", "", []string{"walk"}},
		{"chicken (human subject)", "", []string{}}, // the duck of a nursery rhyme is no crouch either
		{"conversation - explain with hand gestures", "", []string{"gesture"}},
		{"casualquickwalk", "", []string{"walk"}},  // glued words
		{"front_kicking001", "", []string{"kick"}}, // underscores and numbers
		{"furtherjumpturn", "", []string{"jump", "turn"}},
	}
	for _, c := range cases {
		if got := Classes(c.desc, c.cat); !slices.Equal(got, c.want) {
			t.Errorf("Classes(%q, %q) = %v, want %v", c.desc, c.cat, got, c.want)
		}
	}
}

func TestCleanDescription(t *testing.T) {
	cases := []struct{ in, want string }{
		{"walk, veer left", "walk, veer left"},
		{"  Wave Hello ", "wave hello"},
		{"run/jog", "run or jog"},
		{"basketball - forward dribble, 90-degree left turns", "basketball, forward dribble, 90-degree left turns"},
		{"Yokogeri", "side kick"},
		{"Heiansyodan", "heian shodan kata"},
		{"acheyWalk", "achey walk"},
		{"jumpforward", "jump forward"},
		{"walking", "walking"},
		{"left_punch_sequence001", "left punch sequence"},
		{"a sits; b pulls up a (2 subjects - subject a)", "a sits; b pulls up a"},
		{"", ""},
	}
	for _, c := range cases {
		if got := CleanDescription(c.in); got != c.want {
			t.Errorf("CleanDescription(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCaptions(t *testing.T) {
	cases := []struct {
		id, desc, cat string
		first         string   // the description caption
		has           []string // phrases some templated caption must contain
	}{
		{"16_11", "walk, veer left", "run, jump, walk", "walk, veer left", []string{"walk", "veers left"}},
		{"08_04", "slow walk", "walk", "slow walk", []string{"walk", "slowly"}},
		{"60_01", "salsa dance", "salsa", "salsa dance", []string{"salsa"}},
		{"94_04", "", "indian dance", "indian dance", []string{"danc"}},
		{"135_06", "Mawashigeri", "Martial Arts Walks", "roundhouse kick", []string{"kick"}},
		{"01_01", "playground - forward jumps, turn around", "x", "playground, forward jumps, turn around", []string{"jumps forward", "turn", "and then"}},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			got := Captions(c.id, c.desc, c.cat)
			if len(got) < 3 || got[0] != c.first {
				t.Fatalf("captions %q: want %q first and at least two paraphrases", got, c.first)
			}
			if again := Captions(c.id, c.desc, c.cat); !slices.Equal(got, again) {
				t.Fatalf("not deterministic: %q then %q", got, again)
			}
			for _, h := range c.has {
				found := false
				for _, s := range got[1:] {
					found = found || strings.Contains(s, h)
				}
				if !found {
					t.Errorf("no paraphrase in %q contains %q", got, h)
				}
			}
			seen := map[string]bool{}
			for _, s := range got {
				if seen[s] || strings.Contains(s, "{") || s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
					t.Errorf("bad or repeated caption %q in %q", s, got)
				}
				seen[s] = true
			}
		})
	}
	// The seed is the clip id: other ids may pick other templates.
	differ := false
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		differ = differ || !slices.Equal(Captions(id, "walk", "walk"), Captions("08_01", "walk", "walk"))
	}
	if !differ {
		t.Error("every id picks the same walk templates")
	}
}

func TestMirrorText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"walk, veer left", "walk, veer right"},
		{"a person walks and veers left", "a person walks and veers right"},
		{"basketball, forward dribble, 90-degree right turns", "basketball, forward dribble, 90-degree left turns"},
		{"Left hand up, right foot back", "Right hand up, left foot back"},
		{"spins clockwise", "spins counterclockwise"},
		{"spins counterclockwise", "spins clockwise"},
		{"bright leftovers stay", "bright leftovers stay"}, // whole words only
		{"a person runs", "a person runs"},
	}
	for _, c := range cases {
		if got := MirrorText(c.in); got != c.want {
			t.Errorf("MirrorText(%q) = %q, want %q", c.in, got, c.want)
		}
		if c.in != c.want && MirrorText(MirrorText(c.in)) != c.in && !strings.Contains(c.in, "anti") {
			t.Errorf("mirroring %q twice does not give it back", c.in)
		}
	}
}
