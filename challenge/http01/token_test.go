package http01

import (
	"strings"
	"testing"
)

func TestCheckToken(t *testing.T) {
	tests := []struct {
		name, token, wantErr string
	}{
		{"ok", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", ""},
		{"ok dash underscore", "a-b_c", ""},
		{"empty", "", "empty"},
		{"slash", "abc/def", `"/"`},
		{"dotdot", "..", `".."`},
		{"dotdot path", "../../etc/passwd", `".."`},
		{"single dot", "a.b", `"."`},
		{"nul", "abc\x00def", "NUL"},
		{"backslash", `a\b`, `"\\"`},
		{"space", "a b", `" "`},
		{"percent", "a%2fb", `"%"`},
		{"padding", "abc=", `"="`},
		{"too long", strings.Repeat("a", 257), "more than 256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckToken(tc.token)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckToken(%q) = %v, want nil", tc.token, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckToken(%q) = %v, want error containing %s", tc.token, err, tc.wantErr)
			}
		})
	}
}
