package main

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/dataset"
)

// promptSource is a prompt a class is sampled with and where it came
// from: the held-out take whose caption it is, or "" for the class's
// template.
type promptSource struct {
	Prompt string
	Take   string
}

func (p promptSource) source() string {
	if p.Take == "" {
		return "template"
	}
	return "held-out " + p.Take
}

// classPrompts are the prompts of a class, in the order seeds take them:
// the captions of its held-out takes (test split, mirrored copies left
// out) that are about that class alone, past each take's first caption,
// which is its terse CMU description ("run duck underneath") unless it is
// the only one; shuffled by a hash of the class so seeds draw different
// ones. A class no held-out take captions alone gets its template
// (templatePrompt: "a person sits down").
//
// A caption is about class c alone when the dataset builder reads c and
// no other class in it (dataset.Classes: "a person walks and then turns"
// names two), or, in a take of class c only, when it names no class ("a
// person plays sports": the sports words are kinds of sport).
func classPrompts(clips []dataset.Clip, class string) []promptSource {
	seen := map[string]bool{}
	var pool []promptSource
	for _, c := range clips {
		if c.Split != "test" || c.Mirrored || !slices.Contains(c.Classes, class) {
			continue
		}
		caps := c.Captions
		if len(caps) > 1 {
			caps = caps[1:]
		}
		for _, p := range caps {
			if seen[p] || !aboutAlone(p, class, c.Classes) {
				continue
			}
			seen[p] = true
			pool = append(pool, promptSource{Prompt: p, Take: c.ID})
		}
	}
	if len(pool) == 0 {
		return []promptSource{{Prompt: templatePrompt(class)}}
	}
	sort.Slice(pool, func(a, b int) bool { return pool[a].Prompt < pool[b].Prompt })
	h := fnv.New64a()
	h.Write([]byte(class))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x70726f6d))
	rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
	return pool
}

// aboutAlone: whether a caption of a take of classes takeClasses is
// about class alone (classPrompts).
func aboutAlone(caption, class string, takeClasses []string) bool {
	named := dataset.Classes(caption, "")
	return slices.Equal(named, []string{class}) || len(named) == 0 && slices.Equal(takeClasses, []string{class})
}

// templatePrompt is a class's first templated caption with no manner
// phrase (dataset.ClassCaptions of a take that says nothing more) that
// is about the class alone: "a person gets up" is read as no class,
// "someone gets up from the floor" as get_up.
func templatePrompt(class string) string {
	var first string
	for _, c := range dataset.ClassCaptions("", "", class) {
		if c == "" {
			continue
		}
		if first == "" {
			first = c
		}
		if aboutAlone(c, class, []string{class}) && len(dataset.Classes(c, "")) > 0 {
			return c
		}
	}
	if first != "" {
		return first
	}
	return "a person " + strings.ReplaceAll(class, "_", " ")
}

// unseenPrompt is a prompt in plain words the training captions do not
// use, with the class it means and the words that make it unseen.
type unseenPrompt struct {
	Prompt string
	Class  string
	Words  []string
}

// unseenPrompts: issue 28's "prompts in plain words that the model never
// saw in training reach the right class through the mapping". Whether a
// word is in fact outside the bundle's vocabulary is checked at run time
// (knownWords), since a retrained bundle may learn it.
var unseenPrompts = []unseenPrompt{
	{"a person sprints", "run", []string{"sprints"}},
	{"someone takes a seat", "sit", []string{"seat"}},
	{"he tumbles down", "fall", []string{"tumbles"}},
	{"a man strolls", "walk", []string{"strolls"}},
	{"someone squats", "crouch", []string{"squats"}},
	{"a person hops", "jump", []string{"hops"}},
	{"a woman waves her hand", "wave", []string{"woman", "her"}},
	{"someone trips and falls", "fall", []string{"trips", "falls"}},
	{"a person tosses a ball", "sports", []string{"tosses", "ball"}},
}

// knownWords are those of words the tokenizer understands as they are:
// words of the bundle's vocabulary (vocab.txt), so seen in training.
func knownWords(tok *model.WordTokenizer, words []string) []string {
	var out []string
	for _, w := range words {
		if r := tok.Read(w); slices.Equal(r.Understood, []string{strings.ToLower(w)}) {
			out = append(out, w)
		}
	}
	return out
}

// readingString says how a prompt is read, as the studio does:
// "understood a, person; mapped sprints → runs; ignored -".
func readingString(r model.Reading) string {
	list := func(ws []string) string {
		if len(ws) == 0 {
			return "-"
		}
		return strings.Join(ws, ", ")
	}
	var mapped []string
	for _, m := range r.Mapped {
		mapped = append(mapped, m.From+" → "+m.To)
	}
	return fmt.Sprintf("understood %s; mapped %s; ignored %s", list(r.Understood), list(mapped), list(r.Ignored))
}
