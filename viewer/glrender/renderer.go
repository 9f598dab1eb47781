package glrender

import (
	_ "embed"
	"fmt"
	"image"
	"math"
	"strings"
	"unsafe"

	"github.com/go-gl/gl/v3.3-core/gl"
	"github.com/go-gl/mathgl/mgl32"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/viewer/scene"
)

var (
	//go:embed shaders/capsule.vert
	capsuleVert string
	//go:embed shaders/capsule.frag
	capsuleFrag string
	//go:embed shaders/lighting.glsl
	lighting string
	//go:embed shaders/ghost.frag
	ghostFrag string
	//go:embed shaders/impostor.vert
	impostorVert string
	//go:embed shaders/impostor.frag
	impostorFrag string
	//go:embed shaders/floor.vert
	floorVert string
	//go:embed shaders/floor.frag
	floorFrag string
	//go:embed shaders/mark.vert
	markVert string
	//go:embed shaders/mark.frag
	markFrag string
)

// Background is the clear colour, shared with the canvas fallback.
var Background = [3]float32{0.125, 0.133, 0.153}

// Capsule meshes: the full one for bones, a coarse one for what is thin or
// translucent (fingers, onion ghosts). Onion skin multiplies the instance
// count, and on a software rasteriser every vertex counts.
var (
	meshFine   = meshSpec{slices: 10, rings: 3}
	meshCoarse = meshSpec{slices: 5, rings: 1}
)

// thinRadius is the radius (m) under which a bone is drawn coarse.
const thinRadius = 0.008

type meshSpec struct{ slices, rings int }

// Renderer owns the GL objects. Every method must run on the context's
// render goroutine (inside Context.Do).
type Renderer struct {
	capsule, floor, mark    program
	ghost                   program
	impostor                program
	impVAO, impInst         uint32
	capsuleVAO, capsuleMesh uint32
	capsuleIdx, capsuleInst uint32
	fine, coarse            indexRange
	quadVAO, quadVBO        uint32 // floor: a -1..1 square
	markVAO, markInst       uint32
	markQuad                uint32

	w, h               int
	samples, maxSample int32
	msFBO, msColor     uint32
	msDepth            uint32
	outFBO, outColor   uint32
	// The floor is drawn once per camera into its own colour buffer and
	// copied under each frame: during playback the camera rarely moves,
	// and the grid shader over half the view is a third of a frame's cost
	// on a software rasteriser.
	floorFBO, floorColor uint32
	floorKey             floorKey
	floorValid           bool

	inst       []float32 // instance upload scratch
	wholeView  bool      // tests: ray-cast quads cover the whole view
	coarseCaps []scene.Capsule
}

// floorKey is what the cached floor depends on.
type floorKey struct {
	vp        mgl32.Mat4
	eye       mgl32.Vec3
	cx, cz, h float32
}

// indexRange is one mesh's slice of the shared index buffer.
type indexRange struct{ first, count int32 }

// program is a linked shader program and its uniform locations.
type program struct {
	id       uint32
	uniforms map[string]int32
}

func (p program) set(name string) int32 { return p.uniforms[name] }

// NewRenderer compiles the shaders and builds the meshes. samples is the
// MSAA sample count to start with (0 or 1: none); it is capped at the
// driver's maximum.
func NewRenderer(samples int) (*Renderer, error) {
	r := &Renderer{}
	var err error
	if r.capsule, err = link(capsuleVert, withLighting(capsuleFrag), "uViewProj", "uEye"); err != nil {
		return nil, fmt.Errorf("capsule shader: %w", err)
	}
	if r.ghost, err = link(capsuleVert, withLighting(ghostFrag), "uViewProj"); err != nil {
		r.Delete()
		return nil, fmt.Errorf("ghost shader: %w", err)
	}
	if r.impostor, err = link(impostorVert, withLighting(impostorFrag), "uViewProj", "uInvViewProj", "uHalfViewport", "uPxPerUnit", "uOrtho", "uLit", "uOffAxis", "uWholeView"); err != nil {
		r.Delete()
		return nil, fmt.Errorf("impostor shader: %w", err)
	}
	if r.floor, err = link(floorVert, floorFrag, "uViewProj", "uCenter", "uHalf", "uEye", "uBackground", "uFade"); err != nil {
		r.Delete()
		return nil, fmt.Errorf("floor shader: %w", err)
	}
	if r.mark, err = link(markVert, markFrag, "uViewProj"); err != nil {
		r.Delete()
		return nil, fmt.Errorf("mark shader: %w", err)
	}
	gl.GetIntegerv(gl.MAX_SAMPLES, &r.maxSample)
	r.SetSamples(samples)
	r.buildCapsule()
	r.buildQuads()
	if e := gl.GetError(); e != gl.NO_ERROR {
		r.Delete()
		return nil, fmt.Errorf("glrender: GL error 0x%x while setting up", e)
	}
	return r, nil
}

// SetSamples changes the MSAA sample count (0 or 1: none) from the next
// frame; the framebuffers are rebuilt then.
func (r *Renderer) SetSamples(n int) {
	s := int32(min(max(n, 0), int(r.maxSample)))
	if s == 1 {
		s = 0
	}
	if s != r.samples {
		r.samples = s
		r.w, r.h = 0, 0 // rebuild at the next Render
	}
}

// Samples is the MSAA sample count in use (0: none).
func (r *Renderer) Samples() int { return int(r.samples) }

func compile(kind uint32, src string) (uint32, error) {
	s := gl.CreateShader(kind)
	csrc, free := gl.Strs(src + "\x00")
	gl.ShaderSource(s, 1, csrc, nil)
	free()
	gl.CompileShader(s)
	var ok int32
	gl.GetShaderiv(s, gl.COMPILE_STATUS, &ok)
	if ok == gl.FALSE {
		log := infoLog(s, gl.GetShaderiv, gl.GetShaderInfoLog)
		gl.DeleteShader(s)
		return 0, fmt.Errorf("compile: %s", log)
	}
	return s, nil
}

// infoLog reads a shader's or program's log.
func infoLog(id uint32, param func(uint32, uint32, *int32), read func(uint32, int32, *int32, *uint8)) string {
	var n int32
	param(id, gl.INFO_LOG_LENGTH, &n)
	log := strings.Repeat("\x00", int(n+1))
	read(id, n, nil, gl.Str(log))
	return strings.TrimRight(log, "\x00")
}

// withLighting inserts the shared lighting functions after a fragment
// shader's #version line.
func withLighting(src string) string {
	first, rest, _ := strings.Cut(src, "\n")
	return first + "\n" + lighting + rest
}

func link(vert, frag string, uniforms ...string) (program, error) {
	vs, err := compile(gl.VERTEX_SHADER, vert)
	if err != nil {
		return program{}, err
	}
	defer gl.DeleteShader(vs)
	fs, err := compile(gl.FRAGMENT_SHADER, frag)
	if err != nil {
		return program{}, err
	}
	defer gl.DeleteShader(fs)
	id := gl.CreateProgram()
	gl.AttachShader(id, vs)
	gl.AttachShader(id, fs)
	gl.LinkProgram(id)
	var ok int32
	gl.GetProgramiv(id, gl.LINK_STATUS, &ok)
	if ok == gl.FALSE {
		log := infoLog(id, gl.GetProgramiv, gl.GetProgramInfoLog)
		gl.DeleteProgram(id)
		return program{}, fmt.Errorf("link: %s", log)
	}
	p := program{id: id, uniforms: map[string]int32{}}
	for _, u := range uniforms {
		p.uniforms[u] = gl.GetUniformLocation(id, gl.Str(u+"\x00"))
	}
	return p, nil
}

// capsuleMesh appends the unit capsule to verts (x, y, z, end) and idx: a
// UV sphere whose upper half (y ≥ 0) belongs to end B and lower half to end
// A, the equator ring doubled so the band between the halves stretches into
// the cylinder.
func capsuleMesh(m meshSpec, verts []float32, idx []uint16) ([]float32, []uint16) {
	base := uint16(len(verts) / 4)
	ring := func(lat float64, end float32) {
		y, rad := math.Sin(lat), math.Cos(lat)
		for i := 0; i < m.slices; i++ {
			a := 2 * math.Pi * float64(i) / float64(m.slices)
			verts = append(verts, float32(rad*math.Cos(a)), float32(y), float32(-rad*math.Sin(a)), end)
		}
	}
	// Rings from the south pole up: A's half, then B's.
	verts = append(verts, 0, -1, 0, 0) // south pole
	for k := 1; k <= m.rings; k++ {
		ring(-math.Pi/2+math.Pi/2*float64(k)/float64(m.rings), 0)
	}
	for k := 0; k < m.rings; k++ {
		ring(math.Pi/2*float64(k)/float64(m.rings), 1)
	}
	verts = append(verts, 0, 1, 0, 1) // north pole
	north := uint16(len(verts)/4 - 1)
	n := uint16(m.slices)
	ringStart := func(k int) uint16 { return base + 1 + uint16(k)*n } // k = 0..2*rings-1
	for i := uint16(0); i < n; i++ {
		j := (i + 1) % n
		idx = append(idx, base, ringStart(0)+j, ringStart(0)+i)
	}
	for k := 0; k+1 < 2*m.rings; k++ {
		lo, hi := ringStart(k), ringStart(k+1)
		for i := uint16(0); i < n; i++ {
			j := (i + 1) % n
			a, b, c, d := lo+i, lo+j, hi+i, hi+j
			idx = append(idx, a, b, c, b, d, c)
		}
	}
	top := ringStart(2*m.rings - 1)
	for i := uint16(0); i < n; i++ {
		j := (i + 1) % n
		idx = append(idx, top+i, top+j, north)
	}
	return verts, idx
}

func (r *Renderer) buildCapsule() {
	verts, idx := capsuleMesh(meshFine, nil, nil)
	r.fine = indexRange{0, int32(len(idx))}
	verts, idx = capsuleMesh(meshCoarse, verts, idx)
	r.coarse = indexRange{r.fine.count, int32(len(idx)) - r.fine.count}

	gl.GenVertexArrays(1, &r.capsuleVAO)
	gl.BindVertexArray(r.capsuleVAO)
	gl.GenBuffers(1, &r.capsuleMesh)
	gl.BindBuffer(gl.ARRAY_BUFFER, r.capsuleMesh)
	gl.BufferData(gl.ARRAY_BUFFER, len(verts)*4, gl.Ptr(verts), gl.STATIC_DRAW)
	gl.EnableVertexAttribArray(0)
	gl.VertexAttribPointerWithOffset(0, 3, gl.FLOAT, false, 16, 0)
	gl.EnableVertexAttribArray(1)
	gl.VertexAttribPointerWithOffset(1, 1, gl.FLOAT, false, 16, 12)
	gl.GenBuffers(1, &r.capsuleIdx)
	gl.BindBuffer(gl.ELEMENT_ARRAY_BUFFER, r.capsuleIdx)
	gl.BufferData(gl.ELEMENT_ARRAY_BUFFER, len(idx)*2, gl.Ptr(idx), gl.STATIC_DRAW)
	gl.GenBuffers(1, &r.capsuleInst)
	gl.BindBuffer(gl.ARRAY_BUFFER, r.capsuleInst)
	instanceAttribs(2, 0) // re-pointed per mesh run in drawCapsules
	gl.BindVertexArray(0)
}

func (r *Renderer) buildQuads() {
	floor := []float32{-1, -1, 1, -1, -1, 1, 1, 1}
	gl.GenVertexArrays(1, &r.quadVAO)
	gl.BindVertexArray(r.quadVAO)
	gl.GenBuffers(1, &r.quadVBO)
	gl.BindBuffer(gl.ARRAY_BUFFER, r.quadVBO)
	gl.BufferData(gl.ARRAY_BUFFER, len(floor)*4, gl.Ptr(floor), gl.STATIC_DRAW)
	gl.EnableVertexAttribArray(0)
	gl.VertexAttribPointerWithOffset(0, 2, gl.FLOAT, false, 8, 0)

	// Floor marks and ray-cast capsules both draw one corner quad per
	// instance; only what their instances hold differs.
	corners := []float32{0, -1, 1, -1, 0, 1, 1, 1}
	gl.GenBuffers(1, &r.markQuad)
	gl.BindBuffer(gl.ARRAY_BUFFER, r.markQuad)
	gl.BufferData(gl.ARRAY_BUFFER, len(corners)*4, gl.Ptr(corners), gl.STATIC_DRAW)
	r.markVAO, r.markInst = quadInstances(r.markQuad)
	r.impVAO, r.impInst = quadInstances(r.markQuad)
	gl.BindVertexArray(0)
}

// quadInstances is a vertex array drawing the corner quad in buffer quad
// (attribute 0) once per instance of a new instance buffer (attributes
// 1–3).
func quadInstances(quad uint32) (vao, inst uint32) {
	gl.GenVertexArrays(1, &vao)
	gl.BindVertexArray(vao)
	gl.BindBuffer(gl.ARRAY_BUFFER, quad)
	gl.EnableVertexAttribArray(0)
	gl.VertexAttribPointerWithOffset(0, 2, gl.FLOAT, false, 8, 0)
	gl.GenBuffers(1, &inst)
	gl.BindBuffer(gl.ARRAY_BUFFER, inst)
	instanceAttribs(1, 0)
	return vao, inst
}

// instanceAttribs sets up the three vec4 per-instance attributes from
// first on the bound buffer (48 bytes an instance), starting at instance
// from: capsule ends and radius (or a mark's ends and shape), then colour.
func instanceAttribs(first uint32, from int) {
	for k := uint32(0); k < 3; k++ {
		gl.EnableVertexAttribArray(first + k)
		gl.VertexAttribPointerWithOffset(first+k, 4, gl.FLOAT, false, 48, uintptr(48*from+16*int(k)))
		gl.VertexAttribDivisor(first+k, 1)
	}
}

// resize (re)creates the framebuffers for w×h: a multisampled one drawn
// into when MSAA is on, and the single-sampled one read back.
func (r *Renderer) resize(w, h int) error {
	r.deleteTargets()
	r.w, r.h = w, h
	gl.GenFramebuffers(1, &r.outFBO)
	gl.BindFramebuffer(gl.FRAMEBUFFER, r.outFBO)
	gl.GenRenderbuffers(1, &r.outColor)
	gl.BindRenderbuffer(gl.RENDERBUFFER, r.outColor)
	gl.RenderbufferStorage(gl.RENDERBUFFER, gl.RGBA8, int32(w), int32(h))
	gl.FramebufferRenderbuffer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.RENDERBUFFER, r.outColor)
	draw := r.outFBO
	if r.samples > 0 {
		gl.GenFramebuffers(1, &r.msFBO)
		gl.BindFramebuffer(gl.FRAMEBUFFER, r.msFBO)
		gl.GenRenderbuffers(1, &r.msColor)
		gl.BindRenderbuffer(gl.RENDERBUFFER, r.msColor)
		gl.RenderbufferStorageMultisample(gl.RENDERBUFFER, r.samples, gl.RGBA8, int32(w), int32(h))
		gl.FramebufferRenderbuffer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.RENDERBUFFER, r.msColor)
		draw = r.msFBO
	}
	gl.GenRenderbuffers(1, &r.msDepth)
	gl.BindRenderbuffer(gl.RENDERBUFFER, r.msDepth)
	if r.samples > 0 {
		gl.RenderbufferStorageMultisample(gl.RENDERBUFFER, r.samples, gl.DEPTH_COMPONENT24, int32(w), int32(h))
	} else {
		gl.RenderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_COMPONENT24, int32(w), int32(h))
	}
	gl.BindFramebuffer(gl.FRAMEBUFFER, draw)
	gl.FramebufferRenderbuffer(gl.FRAMEBUFFER, gl.DEPTH_ATTACHMENT, gl.RENDERBUFFER, r.msDepth)
	// The floor cache matches the draw target's format and sample count,
	// as a framebuffer blit between them requires.
	gl.GenFramebuffers(1, &r.floorFBO)
	gl.BindFramebuffer(gl.FRAMEBUFFER, r.floorFBO)
	gl.GenRenderbuffers(1, &r.floorColor)
	gl.BindRenderbuffer(gl.RENDERBUFFER, r.floorColor)
	if r.samples > 0 {
		gl.RenderbufferStorageMultisample(gl.RENDERBUFFER, r.samples, gl.RGBA8, int32(w), int32(h))
	} else {
		gl.RenderbufferStorage(gl.RENDERBUFFER, gl.RGBA8, int32(w), int32(h))
	}
	gl.FramebufferRenderbuffer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.RENDERBUFFER, r.floorColor)
	r.floorValid = false
	for _, fb := range []uint32{r.outFBO, r.msFBO, r.floorFBO} {
		if fb == 0 {
			continue
		}
		gl.BindFramebuffer(gl.FRAMEBUFFER, fb)
		if st := gl.CheckFramebufferStatus(gl.FRAMEBUFFER); st != gl.FRAMEBUFFER_COMPLETE {
			r.deleteTargets()
			return fmt.Errorf("glrender: framebuffer %d×%d (MSAA %d) incomplete: 0x%x", w, h, r.samples, st)
		}
	}
	return nil
}

func (r *Renderer) deleteTargets() {
	r.floorValid = false
	for _, fb := range []*uint32{&r.msFBO, &r.outFBO, &r.floorFBO} {
		if *fb != 0 {
			gl.DeleteFramebuffers(1, fb)
			*fb = 0
		}
	}
	for _, rb := range []*uint32{&r.msColor, &r.msDepth, &r.outColor, &r.floorColor} {
		if *rb != 0 {
			gl.DeleteRenderbuffers(1, rb)
			*rb = 0
		}
	}
	r.w, r.h = 0, 0
}

// Render draws dl seen by cam into dst, whose bounds must be cam's size
// (origin at 0, 0). Rows come out top first: the projection is flipped in
// y rather than the image on the CPU.
func (r *Renderer) Render(dl *scene.DrawList, cam *scene.Camera, dst *image.RGBA) error {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	if w <= 0 || h <= 0 || dst.Rect.Min != (image.Point{}) || dst.Stride != 4*w {
		return fmt.Errorf("glrender: destination %v (stride %d) is not a packed image at the origin", dst.Rect, dst.Stride)
	}
	if w != cam.Width || h != cam.Height {
		return fmt.Errorf("glrender: destination %d×%d, camera %d×%d", w, h, cam.Width, cam.Height)
	}
	if w != r.w || h != r.h {
		if err := r.resize(w, h); err != nil {
			return err
		}
	}
	draw := r.outFBO
	if r.samples > 0 {
		draw = r.msFBO
	}
	vp64 := mgl64.Scale3D(1, -1, 1).Mul4(cam.ViewProjection())
	var vp mgl32.Mat4
	for i, v := range vp64 {
		vp[i] = float32(v)
	}
	eye := cam.Eye()
	eye32 := mgl32.Vec3{float32(eye[0]), float32(eye[1]), float32(eye[2])}

	gl.Viewport(0, 0, int32(w), int32(h))
	key := floorKey{vp: vp, eye: eye32, cx: float32(math.Round(cam.Target[0])), cz: float32(math.Round(cam.Target[2])),
		h: float32(max(30, 6*cam.Distance))}
	if !r.floorValid || key != r.floorKey {
		gl.BindFramebuffer(gl.FRAMEBUFFER, r.floorFBO)
		bg := Background
		gl.ClearColor(bg[0], bg[1], bg[2], 1)
		gl.Clear(gl.COLOR_BUFFER_BIT)
		gl.Disable(gl.DEPTH_TEST)
		gl.Disable(gl.CULL_FACE)
		gl.Disable(gl.BLEND)
		r.drawFloor(vp, key)
		r.floorKey, r.floorValid = key, true
	}
	gl.BindFramebuffer(gl.READ_FRAMEBUFFER, r.floorFBO)
	gl.BindFramebuffer(gl.DRAW_FRAMEBUFFER, draw)
	gl.BlitFramebuffer(0, 0, int32(w), int32(h), 0, 0, int32(w), int32(h), gl.COLOR_BUFFER_BIT, gl.NEAREST)
	gl.BindFramebuffer(gl.FRAMEBUFFER, draw)
	gl.ClearDepth(1)
	gl.DepthMask(true)
	gl.Clear(gl.DEPTH_BUFFER_BIT)

	// Everything on the floor first, without depth writes: bones always
	// draw over it, and coplanar marks never fight each other.
	gl.Disable(gl.CULL_FACE)
	gl.Enable(gl.DEPTH_TEST)
	gl.DepthFunc(gl.LEQUAL)
	gl.DepthMask(false)
	gl.Enable(gl.BLEND)
	gl.BlendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ZERO, gl.ONE)
	r.drawMarks(vp, dl.Shadows)
	r.drawMarks(vp, dl.Marks)

	// Bones: the mesh winds clockwise seen from outside in GL's frame;
	// the y flip mirrors that, so front faces are counter-clockwise.
	gl.Enable(gl.CULL_FACE)
	gl.CullFace(gl.BACK)
	gl.FrontFace(gl.CCW)
	gl.Disable(gl.BLEND)
	gl.DepthMask(true)
	// Without MSAA (frames under time pressure) bones are ray-cast on
	// quads: exact, and two triangles each instead of dozens. With MSAA
	// the meshes give anti-aliased silhouettes, which a ray-cast quad's
	// discarded pixels do not.
	if r.samples == 0 {
		r.drawImpostors(vp, cam, dl.Solid, true)
	} else {
		r.drawCapsules(vp, eye32, dl.Solid, false)
	}
	gl.Enable(gl.BLEND)
	gl.DepthMask(false)
	r.drawCapsules(vp, eye32, dl.Ghosts, true)
	gl.DepthMask(true)

	if r.samples > 0 {
		gl.BindFramebuffer(gl.READ_FRAMEBUFFER, r.msFBO)
		gl.BindFramebuffer(gl.DRAW_FRAMEBUFFER, r.outFBO)
		gl.BlitFramebuffer(0, 0, int32(w), int32(h), 0, 0, int32(w), int32(h), gl.COLOR_BUFFER_BIT, gl.NEAREST)
	}
	gl.BindFramebuffer(gl.READ_FRAMEBUFFER, r.outFBO)
	gl.PixelStorei(gl.PACK_ALIGNMENT, 4)
	gl.ReadPixels(0, 0, int32(w), int32(h), gl.RGBA, gl.UNSIGNED_BYTE, gl.Ptr(&dst.Pix[0]))
	gl.BindFramebuffer(gl.FRAMEBUFFER, 0)
	if e := gl.GetError(); e != gl.NO_ERROR {
		return fmt.Errorf("glrender: GL error 0x%x while drawing", e)
	}
	return nil
}

// drawFloor draws a square of floor around the target (large enough to
// fade out before its edge) with the grid and axes.
func (r *Renderer) drawFloor(vp mgl32.Mat4, k floorKey) {
	gl.UseProgram(r.floor.id)
	gl.UniformMatrix4fv(r.floor.set("uViewProj"), 1, false, &vp[0])
	gl.Uniform2f(r.floor.set("uCenter"), k.cx, k.cz)
	gl.Uniform1f(r.floor.set("uHalf"), k.h)
	gl.Uniform3f(r.floor.set("uEye"), k.eye[0], k.eye[1], k.eye[2])
	gl.Uniform3f(r.floor.set("uBackground"), Background[0], Background[1], Background[2])
	gl.Uniform1f(r.floor.set("uFade"), k.h)
	gl.BindVertexArray(r.quadVAO)
	gl.DrawArrays(gl.TRIANGLE_STRIP, 0, 4)
}

func (r *Renderer) drawMarks(vp mgl32.Mat4, marks []scene.FloorMark) {
	if len(marks) == 0 {
		return
	}
	r.inst = r.inst[:0]
	for _, m := range marks {
		r.inst = append(r.inst, m.A[0], m.A[1], m.B[0], m.B[1], m.Radius, m.Ring, m.Soft, 0.002,
			m.Color[0], m.Color[1], m.Color[2], m.Color[3])
	}
	gl.UseProgram(r.mark.id)
	gl.UniformMatrix4fv(r.mark.set("uViewProj"), 1, false, &vp[0])
	gl.BindVertexArray(r.markVAO)
	r.upload(r.markInst)
	gl.DrawArraysInstanced(gl.TRIANGLE_STRIP, 0, 4, int32(len(marks)))
}

// drawCapsules draws caps, the thick ones fine and the rest coarse (all
// coarse with coarse set). Both meshes share one instance upload: the
// instance attributes are pointed at each run in turn, since GL 3.3 has no
// base instance.
func (r *Renderer) drawCapsules(vp mgl32.Mat4, eye mgl32.Vec3, caps []scene.Capsule, coarse bool) {
	if len(caps) == 0 {
		return
	}
	r.inst = r.inst[:0]
	r.coarseCaps = r.coarseCaps[:0]
	add := func(c scene.Capsule) {
		r.inst = append(r.inst, c.A[0], c.A[1], c.A[2], c.Radius, c.B[0], c.B[1], c.B[2], 0,
			c.Color[0], c.Color[1], c.Color[2], c.Color[3])
	}
	for _, c := range caps {
		if coarse || c.Radius < thinRadius {
			r.coarseCaps = append(r.coarseCaps, c)
		} else {
			add(c)
		}
	}
	nFine := len(r.inst) / 12
	for _, c := range r.coarseCaps {
		add(c)
	}
	if coarse {
		gl.UseProgram(r.ghost.id)
		gl.UniformMatrix4fv(r.ghost.set("uViewProj"), 1, false, &vp[0])
	} else {
		gl.UseProgram(r.capsule.id)
		gl.UniformMatrix4fv(r.capsule.set("uViewProj"), 1, false, &vp[0])
		gl.Uniform3f(r.capsule.set("uEye"), eye[0], eye[1], eye[2])
	}
	gl.BindVertexArray(r.capsuleVAO)
	r.upload(r.capsuleInst)
	for _, run := range []struct {
		mesh         indexRange
		first, count int
	}{{r.fine, 0, nFine}, {r.coarse, nFine, len(caps) - nFine}} {
		if run.count == 0 {
			continue
		}
		instanceAttribs(2, run.first)
		gl.DrawElementsInstanced(gl.TRIANGLES, run.mesh.count, gl.UNSIGNED_SHORT, gl.PtrOffset(2*int(run.mesh.first)), int32(run.count))
	}
}

// drawImpostors draws caps as ray-cast quads.
func (r *Renderer) drawImpostors(vp mgl32.Mat4, cam *scene.Camera, caps []scene.Capsule, lit bool) {
	if len(caps) == 0 {
		return
	}
	r.inst = r.inst[:0]
	for _, c := range caps {
		r.inst = append(r.inst, c.A[0], c.A[1], c.A[2], c.Radius, c.B[0], c.B[1], c.B[2], 0,
			c.Color[0], c.Color[1], c.Color[2], c.Color[3])
	}
	inv := vp.Inv()
	proj := cam.Projection()
	// A quad's winding depends on the bone's direction on screen.
	gl.Disable(gl.CULL_FACE)
	defer gl.Enable(gl.CULL_FACE)
	gl.UseProgram(r.impostor.id)
	gl.UniformMatrix4fv(r.impostor.set("uViewProj"), 1, false, &vp[0])
	gl.UniformMatrix4fv(r.impostor.set("uInvViewProj"), 1, false, &inv[0])
	gl.Uniform2f(r.impostor.set("uHalfViewport"), float32(cam.Width)/2, float32(cam.Height)/2)
	gl.Uniform1f(r.impostor.set("uPxPerUnit"), float32(math.Abs(proj[5])*float64(cam.Height)/2))
	gl.Uniform1i(r.impostor.set("uOrtho"), boolInt(cam.Ortho))
	gl.Uniform1i(r.impostor.set("uLit"), boolInt(lit))
	// 1/cos of the angle between the view axis and its corners.
	tx, ty := 1/math.Abs(proj[0]), 1/math.Abs(proj[5]) // tan of the half fields of view
	gl.Uniform1f(r.impostor.set("uOffAxis"), float32(math.Sqrt(1+tx*tx+ty*ty)))
	gl.Uniform1i(r.impostor.set("uWholeView"), boolInt(r.wholeView))
	gl.BindVertexArray(r.impVAO)
	r.upload(r.impInst)
	gl.DrawArraysInstanced(gl.TRIANGLE_STRIP, 0, 4, int32(len(caps)))
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// upload replaces the instance buffer's contents with r.inst, orphaning the
// old storage so the driver need not wait for the previous draw.
func (r *Renderer) upload(buf uint32) {
	gl.BindBuffer(gl.ARRAY_BUFFER, buf)
	n := len(r.inst) * int(unsafe.Sizeof(float32(0)))
	gl.BufferData(gl.ARRAY_BUFFER, n, nil, gl.STREAM_DRAW)
	gl.BufferSubData(gl.ARRAY_BUFFER, 0, n, gl.Ptr(r.inst))
}

// Delete frees every GL object.
func (r *Renderer) Delete() {
	r.deleteTargets()
	for _, p := range []*program{&r.capsule, &r.ghost, &r.impostor, &r.floor, &r.mark} {
		if p.id != 0 {
			gl.DeleteProgram(p.id)
			p.id = 0
		}
	}
	for _, vao := range []*uint32{&r.capsuleVAO, &r.quadVAO, &r.markVAO, &r.impVAO} {
		if *vao != 0 {
			gl.DeleteVertexArrays(1, vao)
			*vao = 0
		}
	}
	for _, b := range []*uint32{&r.capsuleMesh, &r.capsuleIdx, &r.capsuleInst, &r.quadVBO, &r.markInst, &r.markQuad, &r.impInst} {
		if *b != 0 {
			gl.DeleteBuffers(1, b)
			*b = 0
		}
	}
}
