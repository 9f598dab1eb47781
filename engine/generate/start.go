package generate

import (
	"math/rand/v2"

	"github.com/motionstudio/studio/engine/model"
)

// startSalt separates the draw of a sample's bank clip from its noise.
const startSalt = 0x5eed_ba4c

// starts picks, per sample, the bank clip window w's sampling begins from:
// one of the clips whose captions best share the prompt's words, drawn from
// (the window's seed, the sample) alone, so more samples never change the
// earlier ones. It returns nil when the model has no bank, the window has
// no text or states anything besides its prefix (constraints steer the
// motion as before, from noise), or no clip shares a word.
func starts(m *model.Model, p *plan, w window, samples int, words []string) (feats [][]float32, picked []int, err error) {
	if m.Bank == nil || w.NoText || p.keysIn(w) {
		return nil, nil, nil
	}
	cands := m.Bank.Match(words, m.Manifest.Retrieval.MinShare)
	if len(cands) == 0 {
		return nil, nil, nil
	}
	for s := 0; s < samples; s++ {
		r := rand.New(rand.NewPCG(w.Seed^startSalt, uint64(s)))
		i := cands[r.IntN(len(cands))].Entry
		f, err := m.StartFeatures(i, w.Frames)
		if err != nil {
			return nil, nil, err
		}
		feats, picked = append(feats, f), append(picked, i)
	}
	return feats, picked, nil
}

// describeStarts names each sample's start clip for the Result ("" for noise).
func describeStarts(m *model.Model, picked []int, samples int) []string {
	out := make([]string, samples)
	for s, i := range picked {
		out[s] = m.Bank.Describe(i)
	}
	return out
}

// promptWords are the words a prompt is matched to bank captions by: its
// own, and those the model's word map reads them as ("sprints" → runs).
func promptWords(m *model.Model, prompt string) []string {
	return append(model.Words(prompt), model.Words(m.Tokenizer.Read(prompt).Text)...)
}
