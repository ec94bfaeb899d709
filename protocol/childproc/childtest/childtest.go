// Package childtest checks, in tests, that a configuration struct reaches
// a child whole: Fill gives every field a value of its own, Compare finds
// those the child did not get.
package childtest

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// Fill sets every exported field of the struct v points to, nested
// structs included, to a non-zero value no other field has, and returns
// the paths of the unexported fields it left alone: those do not travel
// in JSON, and the caller must say how the child derives each.
func Fill(t testing.TB, v any) (unexported []string) {
	t.Helper()
	s := reflect.ValueOf(v).Elem()
	n := 0
	walk(s.Type(), "", nil, func(path string, index []int) {
		f := s.FieldByIndex(index)
		n++
		switch {
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(time.Unix(int64(1e9+n), int64(n))))
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s-%d", path, n))
		case f.CanInt():
			f.SetInt(int64(n))
		case f.CanUint():
			f.SetUint(uint64(n))
		case f.CanFloat():
			f.SetFloat(float64(n) + 0.5)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("childtest: field %s: no value for a %s", path, f.Type())
		}
	}, &unexported)
	return unexported
}

// Compare reports, as test errors, each exported field in which got, what
// the child decoded, differs from want, what the parent sent; both are
// structs of one type.
func Compare(t testing.TB, want, got any) {
	t.Helper()
	w, g := reflect.ValueOf(want), reflect.ValueOf(got)
	walk(w.Type(), "", nil, func(path string, index []int) {
		wf, gf := w.FieldByIndex(index).Interface(), g.FieldByIndex(index).Interface()
		if wt, ok := wf.(time.Time); ok && wt.Equal(gf.(time.Time)) || reflect.DeepEqual(wf, gf) {
			return
		}
		t.Errorf("field %s did not reach the child: it got %v, the parent sent %v", path, gf, wf)
	}, nil)
}

// walk calls leaf for every exported field of struct type st that is not
// itself a struct (time.Time is a leaf), with its dotted path and index,
// and appends the unexported fields' paths to unexported if not nil.
func walk(st reflect.Type, prefix string, index []int, leaf func(string, []int), unexported *[]string) {
	for i := range st.NumField() {
		sf := st.Field(i)
		path, idx := prefix+sf.Name, append(index[:len(index):len(index)], i)
		switch {
		case !sf.IsExported():
			if unexported != nil {
				*unexported = append(*unexported, path)
			}
		case sf.Type.Kind() == reflect.Struct && sf.Type != timeType:
			walk(sf.Type, path+".", idx, leaf, unexported)
		default:
			leaf(path, idx)
		}
	}
}
