package ui

import (
	"log/slog"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/ui/timeline"
)

// words reads prompts as the chosen model does: which words it
// understands, maps onto words it knows, and ignores. The model's
// tokenizer loads on first use (the manifest, vocabulary and word map
// only: no ONNX Runtime) and again when the model picker changes. On
// Fyne's goroutine.
type words struct {
	name   string               // the model the tokenizer is of
	loaded bool                 // it was loaded (or failed to) for name
	tok    *model.WordTokenizer // nil when that model has none, or failed to load
}

// tokenizer is the chosen model's tokenizer, nil when it has none.
func (g *generationPanel) tokenizer() *model.WordTokenizer {
	if g.model == nil {
		return nil // still building the pickers
	}
	name := g.model.Selected
	if g.words.loaded && g.words.name == name {
		return g.words.tok
	}
	g.words = words{name: name, loaded: true}
	if g.eng != nil && g.engFor[0] == name && g.eng.Tokenizer != nil {
		g.words.tok = g.eng.Tokenizer
		return g.words.tok
	}
	tok, err := loadTokenizer(name)
	if err != nil {
		slog.Warn("studio: cannot read prompts as the model does", "model", name, "err", err)
	}
	g.words.tok = tok
	return tok
}

func loadTokenizer(name string) (*model.WordTokenizer, error) {
	fsys, err := engine.Bundle(name)
	if err != nil {
		return nil, err
	}
	man, err := model.LoadManifestFS(fsys)
	if err != nil || man.Text.Tokenizer == nil {
		return nil, err
	}
	return model.LoadTokenizer(fsys, man)
}

// reading is how the chosen model reads a prompt; false when it cannot say.
func (g *generationPanel) reading(prompt string) (model.Reading, bool) {
	tok := g.tokenizer()
	if tok == nil {
		return model.Reading{}, false
	}
	return tok.Read(prompt), true
}

// promptNote is the timeline's note for a prompt's block.
func (d *documentPanel) promptNote(prompt string) timeline.WordsNote {
	r, ok := d.gen.reading(prompt)
	if !ok {
		return timeline.WordsNote{}
	}
	var parts []string
	if len(r.Mapped) > 0 {
		parts = append(parts, mappedList(r.Mapped))
	}
	if len(r.Ignored) > 0 {
		parts = append(parts, "ignored: "+strings.Join(r.Ignored, ", "))
	}
	return timeline.WordsNote{Text: strings.Join(parts, " · "), Ignored: len(r.Ignored) > 0}
}

func mappedList(ms []model.WordMapping) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.From + " → " + m.To
	}
	return strings.Join(out, ", ")
}

// describeReading is the inspector's text under a prompt: a line each for
// the understood, mapped (and why) and ignored words.
func describeReading(r model.Reading) string {
	return r.Describe([3]string{"Understood: ", "Read as: ", "Ignored (not in the model's vocabulary): "}, "\n", "No words.")
}

// wordsLabel is the label under the inspector's prompt field; it follows
// the field as the user types.
func (in *inspector) wordsLabel(prompt string) *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	in.setWords(l, prompt)
	return l
}

func (in *inspector) setWords(l *widget.Label, prompt string) {
	r, ok := in.d.gen.reading(prompt)
	if !ok {
		l.SetText("")
		l.Hide()
		return
	}
	l.Importance = widget.LowImportance
	if len(r.Ignored) > 0 {
		l.Importance = widget.WarningImportance
	}
	l.SetText(describeReading(r))
	l.Show()
}

// modelChanged tells the studio that prompts read anew.
func (g *generationPanel) modelChanged() {
	if g.onModel != nil { // nil while the window is built
		g.onModel()
	}
}
