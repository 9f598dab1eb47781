package server

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/formats/npz"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/request"
)

// writeZip answers ?download=zip: every sample as BVH, NPZ and GLB (with
// the body mesh, for viewers), the MMCP response document, and the
// request as sent, in one archive.
func (s *Server) writeZip(w http.ResponseWriter, r *http.Request, res *generate.Result, body []byte, a answer) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	now := time.Now()
	add := func(name string, write func(io.Writer) error) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	err := add("request.json", func(f io.Writer) error { _, err := f.Write(body); return err })
	if err == nil {
		var doc []byte
		if doc, err = s.encodeGLTF(res, a, false); err == nil {
			err = add("response.gltf", func(f io.Writer) error { _, err := f.Write(doc); return err })
		}
	}
	motions, _ := a.motions(res)
	for i, m := range motions {
		if err != nil {
			break
		}
		base := fmt.Sprintf("sample_%d", i)
		if err = add(base+".bvh", func(f io.Writer) error { return bvh.Write(f, m, bvh.Options{}) }); err != nil {
			break
		}
		if err = add(base+".npz", func(f io.Writer) error { return npz.Write(f, m, npz.Options{}) }); err != nil {
			break
		}
		err = add(base+".glb", func(f io.Writer) error {
			return gltf.WriteGLB(f, motions[i:i+1], gltf.Options{})
		})
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		writeError(w, r, 0, request.NewError(request.CodeInternalError, "building the download: "+err.Error(), nil))
		return
	}
	setWordsHeader(w, a.words, maxWordsHeader)
	w.Header().Set("Content-Type", api.MediaZip)
	w.Header().Set("Content-Disposition", `attachment; filename="motion.zip"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
