package request

import (
	"maps"
	"slices"
)

// Clone is a deep copy of r: it shares no slice, map or pointer with r, so
// one goroutine may apply defaults to it while another reads r. Nil stays
// nil and empty stays empty (validation tells them apart).
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	c.Skeleton = r.Skeleton.clone()
	c.Segments = cloneEach(r.Segments, Segment.clone)
	c.Constraints = cloneEach(r.Constraints, Constraint.clone)
	c.DurationFrames = clonePtr(r.DurationFrames)
	c.Timing = clonePtr(r.Timing)
	if r.Options != nil {
		c.Options = r.Options.clone()
	}
	return &c
}

func (s Skeleton) clone() Skeleton {
	s.Joints = cloneEach(s.Joints, func(j Joint) Joint {
		j.Parent, j.DisplayName = clonePtr(j.Parent), clonePtr(j.DisplayName)
		return j
	})
	return s
}

func (s Segment) clone() Segment {
	s.Language, s.Seed = clonePtr(s.Language), clonePtr(s.Seed)
	if s.Skeleton != nil {
		sk := s.Skeleton.clone()
		s.Skeleton = &sk
	}
	s.JointNames = slices.Clone(s.JointNames)
	s.Rotations = cloneEach(s.Rotations, slices.Clone)
	s.RootPositions = slices.Clone(s.RootPositions)
	s.Video = clonePtr(s.Video)
	s.StartS, s.EndS = clonePtr(s.StartS), clonePtr(s.EndS)
	s.Strength = clonePtr(s.Strength)
	return s
}

func (c Constraint) clone() Constraint {
	c.Frames = slices.Clone(c.Frames)
	c.PositionsXZ = slices.Clone(c.PositionsXZ)
	c.HeadingRadians = slices.Clone(c.HeadingRadians)
	c.Positions = slices.Clone(c.Positions)
	c.Rotations = slices.Clone(c.Rotations)
	c.JointRotations = maps.Clone(c.JointRotations)
	c.RootPosition = clonePtr(c.RootPosition)
	c.Points = slices.Clone(c.Points)
	return c
}

func (o *Options) clone() *Options {
	c := *o
	c.DiffusionSteps, c.NumSamples, c.Seed = clonePtr(o.DiffusionSteps), clonePtr(o.NumSamples), clonePtr(o.Seed)
	c.PostProcessing, c.TransitionFrames, c.Loop = clonePtr(o.PostProcessing), clonePtr(o.TransitionFrames), clonePtr(o.Loop)
	if o.Guidance != nil {
		g := *o.Guidance
		g.Weight = slices.Clone(g.Weight)
		c.Guidance = &g
	}
	return &c
}

// cloneEach copies s and each element with f; nil stays nil.
func cloneEach[T any](s []T, f func(T) T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// clonePtr points at a copy of *p; nil stays nil. Only for pointers to
// values without references of their own.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
