package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func BenchmarkSaveVersion(b *testing.B) {
	ctx := context.Background()
	tr := openTree(b)
	ca := newCA(b)
	if _, err := tr.CreateLineage(ctx, "b", ca.version(b, "b.example"), nil); err != nil {
		b.Fatal(err)
	}
	v := ca.version(b, "b.example")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.SaveVersion(ctx, "b", v, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListLineages lists 10,000 lineages (issue 8); cached is the
// second and later listings of an unchanged tree.
func BenchmarkListLineages(b *testing.B) {
	for _, cached := range []bool{false, true} {
		b.Run(fmt.Sprintf("cached=%v", cached), func(b *testing.B) {
			tr := benchTree(b, benchN)
			tr.opts.NoCache = !cached
			if cached {
				tr.ListLineages(context.Background())
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				infos, err := tr.ListLineages(context.Background())
				if err != nil || len(infos) != benchN || infos[0].Err != nil {
					b.Fatalf("%d, %v", len(infos), err)
				}
			}
		})
	}
}

// benchN is the lineage count of BenchmarkListLineages (STORAGE_BENCH_N).
var benchN = 10000

func init() {
	if s := os.Getenv("STORAGE_BENCH_N"); s != "" {
		benchN, _ = strconv.Atoi(s)
	}
}

// benchTree writes n lineages directly (no fsync) into a fresh tree.
func benchTree(b testing.TB, n int) *Tree {
	tr := openTree(b)
	ca := newCA(b)
	var certs []*Version
	for i := 0; i < 50; i++ {
		certs = append(certs, ca.version(b, fmt.Sprintf("c%d.example", i)))
	}
	for _, d := range []string{"renewal", "archive", "live"} {
		if err := mkdirs(filepath.Join(tr.Dir, d), 0o700); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("l%05d.example", i)
		v := certs[i%len(certs)]
		ad, ld := tr.ArchiveDir(name), tr.LiveDir(name)
		os.Mkdir(ad, 0o755)
		os.Mkdir(ld, 0o755)
		for k, data := range map[string][]byte{"cert": v.CertPEM, "chain": v.ChainPEM, "fullchain": fullchain(v.CertPEM, v.ChainPEM), "privkey": v.KeyPEM} {
			os.WriteFile(filepath.Join(ad, k+"1.pem"), data, 0o600)
			os.Symlink("../../archive/"+name+"/"+k+"1.pem", filepath.Join(ld, k+".pem"))
		}
		c := &RenewalConf{Version: "2.1.0", ArchiveDir: ad, Cert: filepath.Join(ld, "cert.pem"), PrivKey: filepath.Join(ld, "privkey.pem"),
			Chain: filepath.Join(ld, "chain.pem"), Fullchain: filepath.Join(ld, "fullchain.pem"), Params: RenewalParams{Server: fmt.Sprintf("https://ca%d/dir", i/100), KeyType: "ecdsa", Authenticator: "standalone"}}
		data, _ := c.Marshal()
		os.WriteFile(tr.RenewalConfPath(name), data, 0o644)
	}
	return tr
}
