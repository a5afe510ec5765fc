package web

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// openAPIOperations returns "METHOD /path" for every operation of the
// embedded document.
func openAPIOperations(t *testing.T) (ops []string, doc map[string]any) {
	t.Helper()
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "post", "put", "patch", "delete":
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(ops)
	return ops, doc
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	ops, _ := openAPIOperations(t)
	var routes []string
	for _, rt := range Routes() {
		if strings.HasPrefix(rt.Path, "/api/") {
			if rt.Kind != KindAPI {
				t.Errorf("%s is under /api/ but not KindAPI", rt.Pattern())
			}
			routes = append(routes, rt.Pattern())
		} else if rt.Kind == KindAPI {
			t.Errorf("%s is KindAPI outside /api/", rt.Pattern())
		}
	}
	sort.Strings(routes)
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, o := range ops {
		if !slices.Contains(routes, o) {
			t.Errorf("openapi.json has %s, which routes.go does not", o)
		}
	}
}

// domainErrorCodes parses ../errors.go for the E* string constants.
func domainErrorCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "E") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					codes = append(codes, v)
				}
			}
		}
	}
	if len(codes) < 10 {
		t.Fatalf("found only %d codes in errors.go", len(codes))
	}
	sort.Strings(codes)
	return codes
}

func TestOpenAPIErrorCodesEqualDomainCodes(t *testing.T) {
	_, doc := openAPIOperations(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var enum []string
	for _, v := range schemas["ErrorCode"].(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	sort.Strings(enum)
	codes := domainErrorCodes(t)
	if !slices.Equal(enum, codes) {
		t.Errorf("ErrorCode enum = %v\nerrors.go codes = %v", enum, codes)
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	_, doc := openAPIOperations(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					ref := x.(string)
					var cur any = doc
					for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
						m, ok := cur.(map[string]any)
						if !ok || m[part] == nil {
							t.Errorf("unresolved $ref %s", ref)
							return
						}
						cur = m[part]
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, false)
	rec := e.get("/api/v1/openapi.json")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	servers := doc["servers"].([]any)
	if got := servers[0].(map[string]any)["url"]; got != "https://id.example.com" {
		t.Errorf("servers url = %v", got)
	}
	if got := doc["info"].(map[string]any)["version"]; got != "test" {
		t.Errorf("version = %v", got)
	}
}

func TestEveryDomainCodeHasStatus(t *testing.T) {
	codes := domainErrorCodes(t)
	for _, code := range codes {
		if _, ok := statusByCode[code]; !ok {
			t.Errorf("no HTTP status for %s", code)
		}
	}
	if len(statusByCode) != len(codes) {
		t.Errorf("status table has %d codes, errors.go %d", len(statusByCode), len(codes))
	}
}
