package request

import (
	"fmt"
	"reflect"
	"testing"
)

// fill sets every exported field reachable from v to a non-zero value:
// pointers to filled values, slices of two filled elements, maps of one
// entry. A field added to Request later is covered without touching this.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString(fmt.Sprint("s", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: no case for " + v.Type().String())
	}
}

// shared names the first slice, map or pointer a and b both refer to.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer, reflect.Map:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
		if a.Kind() == reflect.Pointer && !a.IsNil() {
			return shared(a.Elem(), b.Elem(), path)
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestClone(t *testing.T) {
	var r Request
	n := 0
	fill(reflect.ValueOf(&r).Elem(), &n)
	r.size = 123
	c := r.Clone()
	if !reflect.DeepEqual(&r, c) {
		t.Fatalf("the clone differs:\n%+v\n%+v", r, *c)
	}
	if p := shared(reflect.ValueOf(&r).Elem(), reflect.ValueOf(c).Elem(), "Request"); p != "" {
		t.Fatalf("the clone shares %s with the original", p)
	}
	// Nil and empty stay apart: validation tells heading_radians: [] from none.
	r = Request{Constraints: []Constraint{{HeadingRadians: []float64{}}}}
	c = r.Clone()
	if c.Segments != nil || c.Constraints[0].HeadingRadians == nil || c.Constraints[0].Frames != nil || c.Options != nil {
		t.Fatalf("nil or empty not kept: %+v", *c)
	}
	if (*Request)(nil).Clone() != nil {
		t.Fatal("a nil request cloned to a non-nil one")
	}
}
