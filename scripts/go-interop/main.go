// Command go-interop checks sendplan's checkpoints and proofs with Go's golang.org/x/mod/sumdb
// packages, which know nothing of sendplan: note.Open with a verifier built from the published
// note verifier key, then tlog.CheckRecord and tlog.CheckTree on proof files.
//
// Build offline (Debian: golang-go, golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-interop ./scripts/go-interop
//
// Usage: go-interop -vkey 'sendplan.audit+hash+key' [-witness VKEY] FILE...
// FILE is a .checkpoint or a proof file from `sendplan audit prove` (told apart by content).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type proofFile struct {
	Format              string   `json:"format"`
	Kind                string   `json:"kind"`
	Checkpoint          string   `json:"checkpoint"`
	LeafIndex           int64    `json:"leafIndex"`
	Record              string   `json:"record"`
	PreviousHash        string   `json:"previousHash"`
	AuditPath           []string `json:"auditPath"`
	SegmentCheckpoint   string   `json:"segmentCheckpoint"`
	SegmentConsistency  []string `json:"segmentConsistency"`
	PreviousCheckpoint  string   `json:"previousCheckpoint"`
	PreviousConsistency []string `json:"previousConsistency"`
	From                string   `json:"from"`
	To                  string   `json:"to"`
	ConsistencyPath     []string `json:"consistencyPath"`
}

var verifiers note.Verifiers

// open checks the note's signature and returns its tree size and root hash.
func open(msg []byte) (int64, tlog.Hash, error) {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return 0, tlog.Hash{}, fmt.Errorf("not a checkpoint: %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("tree size: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return 0, tlog.Hash{}, fmt.Errorf("root hash %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], raw)
	return size, h, nil
}

func hashes(list []string) (tlog.RecordProof, error) {
	var out tlog.RecordProof
	for _, s := range list {
		raw, err := hex.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("bad hash %q", s)
		}
		var h tlog.Hash
		copy(h[:], raw)
		out = append(out, h)
	}
	return out, nil
}

// consistent runs tlog.CheckTree from the older note to the newer one (sizes >= 1).
func consistent(older string, proof []string, t int64, th tlog.Hash) error {
	n, h, err := open([]byte(older))
	if err != nil {
		return err
	}
	p, err := hashes(proof)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(tlog.TreeProof(p), t, th, n, h); err != nil {
		return fmt.Errorf("tlog.CheckTree(%d -> %d): %v", n, t, err)
	}
	return nil
}

func checkProof(data []byte) (string, error) {
	var p proofFile
	if err := json.Unmarshal(data, &p); err != nil {
		return "", err
	}
	switch p.Kind {
	case "inclusion":
		t, th, err := open([]byte(p.Checkpoint))
		if err != nil {
			return "", err
		}
		prev, err := hex.DecodeString(p.PreviousHash)
		if err != nil || len(prev) != tlog.HashSize {
			return "", fmt.Errorf("previousHash")
		}
		// The leaf is the RFC 6962 leaf hash of the entry record body || previous hash.
		leaf := tlog.RecordHash(append([]byte(p.Record), prev...))
		path, err := hashes(p.AuditPath)
		if err != nil {
			return "", err
		}
		if err := tlog.CheckRecord(path, t, th, p.LeafIndex, leaf); err != nil {
			return "", fmt.Errorf("tlog.CheckRecord(record %d of %d): %v", p.LeafIndex, t, err)
		}
		if err := consistent(p.SegmentCheckpoint, p.SegmentConsistency, t, th); err != nil {
			return "", fmt.Errorf("segment checkpoint: %v", err)
		}
		if p.PreviousCheckpoint != "" {
			if err := consistent(p.PreviousCheckpoint, p.PreviousConsistency, t, th); err != nil {
				return "", fmt.Errorf("previous checkpoint: %v", err)
			}
		}
		return fmt.Sprintf("tlog.CheckRecord accepts record %d of %d, tlog.CheckTree its segment checkpoints", p.LeafIndex, t), nil
	case "consistency":
		t, th, err := open([]byte(p.To))
		if err != nil {
			return "", err
		}
		if err := consistent(p.From, p.ConsistencyPath, t, th); err != nil {
			return "", err
		}
		return fmt.Sprintf("tlog.CheckTree accepts the consistency proof to size %d", t), nil
	}
	return "", fmt.Errorf("unknown proof kind %q", p.Kind)
}

func main() {
	vkey := flag.String("vkey", "", "the log's note verifier key")
	flag.Parse()
	v, err := note.NewVerifier(strings.TrimSpace(*vkey))
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-interop: verifier key: %v\n", err)
		os.Exit(2)
	}
	verifiers = note.VerifierList(v)
	failed, notes, proofs := 0, 0, 0
	for _, f := range flag.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-interop: %v\n", err)
			os.Exit(2)
		}
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			what, err := checkProof(data)
			if err != nil {
				fmt.Printf("FAIL %s: %v\n", f, err)
				failed++
				continue
			}
			proofs++
			fmt.Printf("ok %s: %s\n", f, what)
			continue
		}
		if _, _, err := open(data); err != nil {
			fmt.Printf("FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		notes++
	}
	fmt.Printf("go-interop: %d checkpoints opened by note.Open, %d proofs accepted by tlog, %d failed\n", notes, proofs, failed)
	if failed > 0 || notes+proofs == 0 {
		os.Exit(1)
	}
}
