package argparse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// dumped is one parser action as testdata/certbot_oracle.py dump prints it.
type dumped struct {
	Options []string `json:"options"`
	Dest    string   `json:"dest"`
	Action  string   `json:"action"`
	Const   any      `json:"const"`
	Default any      `json:"default"`
	Type    *string  `json:"type"`
	Choices []string `json:"choices"`
	Hidden  bool     `json:"hidden"`
	Topics  []*string
}

var actionNames = map[string]Action{
	"_HelpAction": Help, "_StoreAction": Store, "_CountAction": Count, "_StoreTrueAction": StoreTrue,
	"_StoreFalseAction": StoreFalse, "_DomainsAction": Domains, "_VersionAction": Version,
	"_PrefChallAction": PrefChallenges, "_RenewHookAction": RenewHook, "_DeployHookAction": DeployHook,
	"DeprecatedArgumentAction": Deprecated, "_EncodeReasonAction": Reason, "_AppendConstAction": AppendConst,
	"_WebrootPathAction": WebrootPath, "_WebrootMapAction": WebrootMap,
}

var typeNames = map[string]Type{
	"": String, "str": String, "int": Int, "nonnegative_int": NonNegativeInt, "abspath": AbsPath,
	"read_file": ReadFile, "_user_agent_comment_type": UserAgentComment,
}

// TestCertbotSpecMatches21 checks every option of Debian's certbot 2.1 and
// its plugins against Certbot(): same option strings in the same order,
// dest, action, type, choices, default, visibility and help topics. The
// options certbot 5.x added or dropped are listed in certbot.go.
func TestCertbotSpecMatches21(t *testing.T) {
	if testing.Short() {
		t.Skip("runs certbot's parser")
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "certbot_oracle.py"))
	out, err := exec.CommandContext(t.Context(), certbotPython, script, "dump").Output()
	if err != nil {
		t.Fatalf("certbot oracle dump: %v", err)
	}
	p := MustNew(Certbot())
	var order21 []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var d dumped
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if d.Options == nil {
			continue // the trailing plugins/topics line
		}
		if d.Options[0] == "--certbot-route53:auth-propagation-seconds" {
			continue // the legacy route53 alias certbot 5.x no longer has
		}
		n++
		order21 = append(order21, d.Options...)
		o, ok := p.Lookup(d.Options[0])
		if !ok {
			t.Errorf("%v: missing from Certbot()", d.Options)
			continue
		}
		if !slices.Equal(o.Flags, d.Options) {
			t.Errorf("%v: flags %v", d.Options, o.Flags)
		}
		if o.Dest != d.Dest {
			t.Errorf("%v: dest %q, certbot %q", d.Options, o.Dest, d.Dest)
		}
		if a := actionNames[d.Action]; o.Action != a {
			t.Errorf("%v: action %d, certbot %s", d.Options, o.Action, d.Action)
		}
		tn := ""
		if d.Type != nil {
			tn = *d.Type
		}
		if ty, ok := typeNames[tn]; !ok || o.Type != ty {
			t.Errorf("%v: type %d, certbot %s", d.Options, o.Type, tn)
		}
		if !slices.Equal(o.Choices, d.Choices) {
			t.Errorf("%v: choices %v, certbot %v", d.Options, o.Choices, d.Choices)
		}
		if d.Default != "==SUPPRESS==" && !reflect.DeepEqual(jsonValue(o.Default), jsonValue(d.Default)) {
			t.Errorf("%v: default %#v, certbot %#v", d.Options, o.Default, d.Default)
		}
		if d.Action == "_AppendConstAction" && o.Const != d.Const {
			t.Errorf("%v: const %v, certbot %v", d.Options, o.Const, d.Const)
		}
		if o.Hidden != d.Hidden {
			t.Errorf("%v: hidden %v, certbot %v", d.Options, o.Hidden, d.Hidden)
		}
		var topics []string
		for _, tp := range d.Topics {
			if tp == nil {
				topics = append(topics, "")
			} else {
				topics = append(topics, *tp)
			}
		}
		if !slices.Equal(o.Topics, topics) {
			t.Errorf("%v: topics %q, certbot %q", d.Options, o.Topics, topics)
		}
	}
	// certbot 2.1's option strings keep their relative order.
	var mine []string
	for _, f := range p.Flags() {
		if slices.Contains(order21, f) {
			mine = append(mine, f)
		}
	}
	if !slices.Equal(mine, order21) {
		t.Errorf("option order differs from certbot 2.1:\n got %s\nwant %s", strings.Join(mine, " "), strings.Join(order21, " "))
	}
	if n < 140 {
		t.Errorf("certbot 2.1 dumped only %d options", n)
	}
	t.Logf("%d certbot 2.1 options checked; Certbot() has %d option strings", n, len(p.Flags()))
}
