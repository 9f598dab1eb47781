package request

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// BatchItem is one entry of a batch body: the request, validated and with
// its defaults, or the error to answer in its place. Exactly one is set.
type BatchItem struct {
	Request *Request
	Err     error
}

// IsBatch reports whether a POST /generate body is a batch: a JSON object
// with the key "requests" (the reference server's rule).
func IsBatch(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	_, ok := top["requests"]
	return ok
}

// DecodeBatch reads a batch body ({"protocol_version", "requests": [...]},
// MMCP-notes §3.3). The error refuses the whole batch; otherwise there is one
// item per request, in order, and one item's failure never touches the
// others. An item without protocol_version takes the batch's.
func DecodeBatch(data []byte, caps Caps) ([]BatchItem, error) {
	if limit := caps.MaxRequestBytes(); len(data) > limit {
		return nil, tooLarge(limit, len(data))
	}
	top, err := topObject(data)
	if err != nil {
		return nil, err
	}
	var version string
	if firstByte(top["protocol_version"]) != '"' || json.Unmarshal(top["protocol_version"], &version) != nil {
		return nil, NewError(CodeSchemaValidation, "a batch needs a protocol_version", nil)
	}
	// The reference reads the batch's major as a number, whatever follows it.
	if err := checkMajor(version); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if firstByte(top["requests"]) != '[' || json.Unmarshal(top["requests"], &items) != nil || len(items) == 0 {
		return nil, NewError(CodeSchemaValidation, "requests must be a non-empty list", nil)
	}
	if limit := caps.MaxBatchSize(); len(items) > limit {
		return nil, errorf(CodeInvalidOptions, map[string]any{"max_batch_size": limit, "requests": len(items)},
			"a batch holds at most %d requests; got %d", limit, len(items))
	}
	out := make([]BatchItem, len(items))
	for i, raw := range items {
		if firstByte(raw) != '{' {
			out[i].Err = NewError(CodeSchemaValidation, "each request must be an object", nil)
			continue
		}
		out[i].Request, out[i].Err = decode(raw, version, caps, compactSize(raw))
	}
	return out, nil
}

// compactSize is an item's length as the reference measures it against
// max_request_bytes: re-serialised compactly by Python's json.dumps, which
// also writes every non-ASCII character as a \u escape (two for those
// outside the BMP).
func compactSize(raw json.RawMessage) int {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return len(raw)
	}
	n := 0
	for s := buf.Bytes(); len(s) > 0; {
		r, size := utf8.DecodeRune(s)
		switch {
		case r < utf8.RuneSelf:
			n++
		case r > 0xFFFF:
			n += 12
		default:
			n += 6
		}
		s = s[size:]
	}
	return n
}
