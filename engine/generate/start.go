package generate

import (
	"math/rand/v2"

	"github.com/motionstudio/studio/engine/model"
)

// startSalt separates the draw of a sample's bank clip from its noise.
const startSalt = 0x5eed_ba4c

// start is where a window's samples begin: bank clips (raw features per
// sample, noised to step), or noise when feats is nil. names says which
// clip each sample began from ("" for noise).
type start struct {
	feats [][]float32
	step  int
	names []string
}

// constrainedLift raises the start step of a window that states root keys,
// targets or pose keys: the clip then sets the action's look and the
// constraints, stated at every step, have the steps to bend it to them.
const constrainedLift = 300

// startOf picks, per sample, the bank clip window w's sampling begins from:
// one of the clips whose captions best share the prompt's words, drawn from
// (the window's seed, the sample) alone, so more samples never change the
// earlier ones. Noise when retrieval is off, the model has no bank, the
// window has no text, or no clip shares a word. A motion_reference window
// starts from its own clip instead (refStart), retrieval or not.
func startOf(m *model.Model, p *plan, w window, samples int, off bool) (start, error) {
	if w.Ref != nil {
		return refStart(m, w, samples)
	}
	st := start{names: make([]string, samples)}
	if off || m.Bank == nil || w.NoText {
		return st, nil
	}
	cands := m.Bank.Match(promptWords(m, w.Prompt), m.Manifest.Retrieval.MinShare)
	if len(cands) == 0 {
		return st, nil
	}
	for s := range samples {
		r := rand.New(rand.NewPCG(w.Seed^startSalt, uint64(s)))
		i := cands[r.IntN(len(cands))].Entry
		f, err := m.StartFeatures(i, w.Frames)
		if err != nil {
			return start{}, err
		}
		st.feats, st.names[s] = append(st.feats, f), m.Bank.Describe(i)
	}
	st.step = m.Manifest.Retrieval.StartStep
	if p.keysIn(w) {
		st.step = min(st.step+constrainedLift, m.Manifest.Diffusion.TrainSteps-1)
	}
	return st, nil
}

// promptWords are the words a prompt is matched to bank captions by: its
// own, and those the model's word map reads them as ("sprints" → runs).
func promptWords(m *model.Model, prompt string) []string {
	return append(model.Words(prompt), model.Words(m.Tokenizer.Read(prompt).Text)...)
}

// featsOf is sample s's bank clip, nil when it begins from noise.
func (st start) featsOf(s int) []float32 {
	if st.feats == nil {
		return nil
	}
	return st.feats[s]
}
