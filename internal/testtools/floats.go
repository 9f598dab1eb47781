package testtools

import (
	"fmt"
	"math"
	"reflect"
	"slices"
)

// FloatBeyond names the first float64 under v (through pointers, exported
// struct fields but those named in skip, slices, arrays and maps) that is
// not finite or whose magnitude exceeds bound, as "path.Field[i] = value";
// "" when there is none. The fuzz targets hold what reaches the engine to it.
func FloatBeyond(v reflect.Value, path string, bound float64, skip ...string) string {
	switch v.Kind() {
	case reflect.Float64:
		if f := v.Float(); !(math.Abs(f) <= bound) {
			return fmt.Sprintf("%s = %g", path, f)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return FloatBeyond(v.Elem(), path, bound, skip...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || slices.Contains(skip, f.Name) {
				continue
			}
			if p := FloatBeyond(v.Field(i), path+"."+f.Name, bound, skip...); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := FloatBeyond(v.Index(i), fmt.Sprintf("%s[%d]", path, i), bound, skip...); p != "" {
				return p
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p := FloatBeyond(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key()), bound, skip...); p != "" {
				return p
			}
		}
	}
	return ""
}
