package bvh

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/atomicfile"
)

// Options controls the writer.
type Options struct {
	// Order is the Euler order of every joint's rotation channels, as listed
	// in the CHANNELS line, in either case; empty means ZYX.
	Order motion.EulerOrder
	// Units of the written file: "m" (default) or "cm". The motion is taken
	// to be in metres; "cm" multiplies positions and offsets by 100.
	Units string
}

// Decimals written: angles to 1e-6°, positions to 1e-6 m in either unit.
const (
	angleDecimals = 6
	metreDecimals = 6
	cmDecimals    = 4
)

func (o Options) resolve() (order motion.EulerOrder, scale float64, dec int, err error) {
	order = motion.ZYX
	if o.Order != "" {
		if order, err = motion.ParseEulerOrder(string(o.Order)); err != nil {
			return "", 0, 0, fmt.Errorf("bvh: %w", err)
		}
	}
	switch o.Units {
	case "", "m":
		return order, 1, metreDecimals, nil
	case "cm":
		return order, 100, cmDecimals, nil
	}
	return "", 0, 0, fmt.Errorf("bvh: unknown units %q (want \"m\" or \"cm\")", o.Units)
}

// WriteFile writes m to path atomically.
func WriteFile(path string, m *motion.Motion, opt Options) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return Write(w, m, opt) })
}

// Write writes m as BVH: the root with six channels (absolute positions,
// OFFSET 0 0 0), other joints with three rotation channels (six when m.Trans
// is set), every leaf with an End Site, and the frame time 1/m.FPS. Angles
// are written to 1e-6° in their principal range (importers such as Blender
// make them continuous), positions to 1e-6 m.
func Write(w io.Writer, m *motion.Motion, opt Options) error {
	order, scale, dec, err := opt.resolve()
	if err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("bvh: %w", err)
	}
	wr, err := newWriter(m, order, scale, dec)
	if err != nil {
		return err
	}
	if _, err := w.Write(wr.header()); err != nil {
		return fmt.Errorf("bvh: write: %w", err)
	}
	return wr.frames(w)
}

// writer holds what every frame needs: the joints in file (depth-first)
// order and the rest-frame changes that bake the skeleton's rest rotations.
type writer struct {
	m     *motion.Motion
	order motion.EulerOrder
	axes  [3]int
	scale float64
	dec   int
	names []string
	dfs   []int // joint indices in the order the file lists them
	// Baking rest rotations: the BVH frame of a joint is world-aligned at
	// rest, so its BVH rotation is pre·L·post with pre = A_p and post =
	// R⁻¹·A_p⁻¹, where A_p is the parent's rest world rotation (identity for
	// the root) and R the joint's rest rotation; offsets, joint translations
	// and End Sites are rotated by A_p (A_j for End Sites). baked is false
	// when every rest is identity and the products can be skipped.
	pre, post []mgl64.Quat
	restW     []mgl64.Quat
	baked     bool
}

func newWriter(m *motion.Motion, order motion.EulerOrder, scale float64, dec int) (*writer, error) {
	s := m.Skel
	wr := &writer{m: m, order: order, scale: scale, dec: dec,
		axes: order.Axes()}
	// BVH names end at whitespace (Blender keeps the first word), so
	// whitespace and braces become underscores; a collision is an error.
	seen := map[string]string{}
	for _, j := range s.Joints {
		n := strings.Map(func(r rune) rune {
			if r == '{' || r == '}' || r <= ' ' || r == 0x7f {
				return '_'
			}
			return r
		}, j.Name)
		if prev, dup := seen[n]; dup {
			return nil, fmt.Errorf("bvh: joints %q and %q both become %q in BVH", prev, j.Name, n)
		}
		seen[n] = j.Name
		wr.names = append(wr.names, n)
	}
	stack := []int{0}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		wr.dfs = append(wr.dfs, j)
		ch := s.Children(j)
		for k := len(ch) - 1; k >= 0; k-- {
			stack = append(stack, ch[k])
		}
	}
	_, wr.restW = s.RestWorld()
	wr.pre = make([]mgl64.Quat, s.Len())
	wr.post = make([]mgl64.Quat, s.Len())
	for j, jt := range s.Joints {
		a := mgl64.QuatIdent()
		if jt.Parent >= 0 {
			a = wr.restW[jt.Parent]
		}
		wr.pre[j] = a
		wr.post[j] = jt.Rest.Inverse().Mul(a.Inverse())
		if jt.Rest != mgl64.QuatIdent() {
			wr.baked = true
		}
	}
	return wr, nil
}

func (wr *writer) header() []byte {
	s := wr.m.Skel
	b := make([]byte, 0, 128*s.Len())
	b = append(b, "HIERARCHY\n"...)
	rotChans := ""
	for _, a := range wr.axes {
		rotChans += " " + channelNames[xRot+a]
	}
	depth := 0
	indent := func() {
		for k := 0; k < depth; k++ {
			b = append(b, '\t')
		}
	}
	vec := func(v mgl64.Vec3) {
		for k := range v {
			b = append(b, ' ')
			b = appendFixed(b, v[k]*wr.scale, wr.dec)
		}
		b = append(b, '\n')
	}
	// open lists, per depth, the joint whose block is open there.
	endSite := func(off mgl64.Vec3) {
		indent()
		b = append(b, "End Site\n"...)
		indent()
		b = append(b, "{\n"...)
		depth++
		indent()
		b = append(b, "OFFSET"...)
		vec(off)
		depth--
		indent()
		b = append(b, "}\n"...)
	}
	var open []int
	closeTo := func(d int) {
		for len(open) > d {
			j := open[len(open)-1]
			if len(s.Children(j)) > 0 && s.Joints[j].EndOffset != (mgl64.Vec3{}) {
				// A joint with children and an End Site of its own.
				endSite(wr.restW[j].Rotate(s.Joints[j].EndOffset))
			}
			open = open[:len(open)-1]
			depth--
			indent()
			b = append(b, "}\n"...)
		}
	}
	level := make([]int, s.Len())
	for _, j := range wr.dfs {
		jt := s.Joints[j]
		if jt.Parent >= 0 {
			level[j] = level[jt.Parent] + 1
		}
		closeTo(level[j])
		indent()
		if j == 0 {
			b = append(b, "ROOT "...)
		} else {
			b = append(b, "JOINT "...)
		}
		b = append(b, wr.names[j]...)
		b = append(b, '\n')
		indent()
		b = append(b, "{\n"...)
		depth++
		open = append(open, j)
		indent()
		b = append(b, "OFFSET"...)
		off := wr.pre[j].Rotate(jt.Offset)
		if j == 0 {
			off = mgl64.Vec3{} // root positions are written absolute
		}
		vec(off)
		indent()
		if j == 0 || wr.m.Trans != nil {
			b = append(b, "CHANNELS 6 Xposition Yposition Zposition"...)
		} else {
			b = append(b, "CHANNELS 3"...)
		}
		b = append(b, rotChans...)
		b = append(b, '\n')
		if len(s.Children(j)) == 0 {
			endSite(wr.endSite(j))
		}
	}
	closeTo(0)
	b = append(b, "MOTION\nFrames: "...)
	b = strconv.AppendInt(b, int64(wr.m.Frames()), 10)
	b = append(b, "\nFrame Time: "...)
	b = strconv.AppendFloat(b, 1/wr.m.FPS, 'g', 10, 64)
	b = append(b, '\n')
	return b
}

// endSite is a leaf's tip in its (world-aligned) BVH frame: its EndOffset,
// or a quarter of its own bone so that importers give the last bone a length
// and a direction.
func (wr *writer) endSite(j int) mgl64.Vec3 {
	jt := wr.m.Skel.Joints[j]
	if jt.EndOffset != (mgl64.Vec3{}) {
		return wr.restW[j].Rotate(jt.EndOffset)
	}
	if tip := wr.pre[j].Rotate(jt.Offset).Mul(0.25); tip.Len() > 1e-6 {
		return tip
	}
	return mgl64.Vec3{0, 0.05, 0} // a bare root: 5 cm up
}

// frameChunk is how many frames one worker formats at a time.
const frameChunk = 128

// frames writes the frame lines: batches of chunks are converted and
// formatted on all cores into reused buffers, then written in order.
func (wr *writer) frames(w io.Writer) error {
	n := wr.m.Frames()
	workers := max(1, min(runtime.GOMAXPROCS(0), (n+frameChunk-1)/frameChunk))
	bufs := make([][]byte, workers)
	for start := 0; start < n; start += workers * frameChunk {
		var wg sync.WaitGroup
		for k := range bufs {
			from := start + k*frameChunk
			to := min(n, from+frameChunk)
			if from >= to {
				bufs[k] = bufs[k][:0]
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				bufs[k] = wr.appendFrames(bufs[k][:0], from, to)
			}()
		}
		wg.Wait()
		for _, b := range bufs {
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("bvh: write: %w", err)
			}
		}
	}
	return nil
}

// appendFrames formats frames [from, to).
func (wr *writer) appendFrames(b []byte, from, to int) []byte {
	m := wr.m
	J := m.Skel.Len()
	const radToDeg = 180 / math.Pi
	for t := from; t < to; t++ {
		for _, j := range wr.dfs {
			if j == 0 || m.Trans != nil {
				var p mgl64.Vec3
				if j == 0 {
					p = m.Root[t]
				} else {
					p = wr.pre[j].Rotate(m.Trans[t*J+j])
				}
				for k := range p {
					b = appendFixed(b, p[k]*wr.scale, wr.dec)
					b = append(b, ' ')
				}
			}
			q := m.Rot[t*J+j]
			if wr.baked {
				q = wr.pre[j].Mul(q).Mul(wr.post[j])
			}
			e := motion.QuatToEuler(q, wr.order)
			if cap(b)-len(b) < 3*(fixedMax+1) {
				b = slices.Grow(b, 1<<16)
			}
			for _, a := range wr.axes {
				// Angles are within ±180°, so putFixed always handles them.
				dst := b[len(b) : len(b)+fixedMax+1]
				n := putFixed((*[fixedMax]byte)(dst), e[a]*radToDeg, angleDecimals)
				dst[n] = ' '
				b = b[:len(b)+n+1]
			}
		}
		b[len(b)-1] = '\n'
	}
	return b
}
