package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_more.sql":  {Data: []byte("B")},
		"0001_init.sql":  {Data: []byte("A")},
		"0010_later.sql": {Data: []byte("C")},
		"README.md":      {Data: []byte("ignored")},
	}
	list, err := Migrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list {
		got = append(got, m.Name+":"+m.SQL)
	}
	if want := "0001_init.sql:A 0002_more.sql:B 0010_later.sql:C"; strings.Join(got, " ") != want {
		t.Fatalf("Migrations: got %q, want %q", got, want)
	}
	if list[2].Version != 10 {
		t.Fatalf("Version: got %d, want 10", list[2].Version)
	}

	bad := []fstest.MapFS{
		{"1_short.sql": {}},
		{"0001_Bad-Name.sql": {}},
		{"0001_a.sql": {}, "001_b.sql": {}},
		{"0001_a.sql": {}, "00001_b.sql": {}}, // the same version twice
		{"0000_zero.sql": {}},
	}
	for _, fsys := range bad {
		if _, err := Migrations(fsys); err == nil {
			t.Errorf("Migrations(%v): no error", fsys)
		}
	}
}
