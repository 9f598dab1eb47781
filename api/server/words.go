package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/request"
)

// maxWordsHeader bounds X-Motionstudio-Words on MMCP answers, whose
// MMCP_motion.words carries the same.
const maxWordsHeader = 8 << 10

// words says how the model reads req's text segments and logs it, one
// structured line per segment, with the answer's request id. Nil for a
// model without a vocabulary.
func (s *Server) words(reqID string, req *request.Request) []api.Words {
	readings := s.eng.Read(req)
	if readings == nil {
		return nil
	}
	out := make([]api.Words, len(readings))
	for i, rd := range readings {
		out[i] = api.Words{Segment: rd.Segment, Understood: rd.Understood, Mapped: make([]api.MappedWord, len(rd.Mapped)),
			Ignored: rd.Ignored}
		mapped := make([]string, len(rd.Mapped))
		for k, m := range rd.Mapped {
			out[i].Mapped[k] = api.MappedWord{From: m.From, To: m.To, How: m.How}
			mapped[k] = fmt.Sprintf("%s→%s (%s)", m.From, m.To, m.How)
		}
		s.log.Info("api: prompt words", "request_id", reqID, "segment", rd.Segment,
			"understood", rd.Understood, "mapped", mapped, "ignored", rd.Ignored)
	}
	return out
}

// setWordsHeader writes X-Motionstudio-Words: the readings as compact
// ASCII JSON, left out beyond limit bytes (0: no limit).
func setWordsHeader(w http.ResponseWriter, words []api.Words, limit int) {
	if v := wordsHeader(words, limit); v != "" {
		w.Header().Set(api.HeaderWords, v)
	}
}

// wordsHeader is X-Motionstudio-Words' value; "" for none or beyond limit.
func wordsHeader(words []api.Words, limit int) string {
	if words == nil {
		return ""
	}
	data, err := json.Marshal(words)
	if err != nil {
		return ""
	}
	v := asciiJSON(data)
	if limit > 0 && len(v) > limit {
		return ""
	}
	return v
}

// asciiJSON escapes every non-ASCII character of a JSON text as \uXXXX
// (surrogate pairs beyond the BMP), so it travels in a header.
func asciiJSON(data []byte) string {
	var b strings.Builder
	for _, r := range string(data) {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			b.WriteString(`\u` + strconv.FormatInt(int64(0xd800+(r>>10)), 16) + `\u` + strconv.FormatInt(int64(0xdc00+(r&0x3ff)), 16))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}
