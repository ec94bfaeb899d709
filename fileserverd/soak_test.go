package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fileserver/protocol"
)

var (
	soakFor     = flag.Duration("soak", 0, "run TestSoak for this long (e.g. 10m); 0 skips it")
	soakMode    = flag.String("soak-mode", "process", "server mode for TestSoak: thread or process")
	soakClients = flag.Int("soak-clients", 20, "client workers for TestSoak")
)

// TestSoak hammers one server with mixed LIST, GET, UPLOAD and DELETE from
// many workers for -soak, verifying every reply against what each worker
// knows it stored: nothing corrupted, no acknowledged upload lost, no
// deleted file back. Not in CI:
//
//	go test -run TestSoak -timeout 20m ./fileserverd -args -soak=10m
func TestSoak(t *testing.T) {
	if *soakFor == 0 {
		t.Skip("soak test: run with -args -soak=10m")
	}
	d := startDaemon(t, *soakMode, 5, "-idle-timeout", "30s")
	ctx := ctxTimeout(t, *soakFor)
	var ops [5]atomic.Int64 // list, get, upload, delete, shared
	var problems atomic.Int64
	report := func(format string, args ...any) {
		problems.Add(1)
		t.Errorf(format, args...)
	}
	sharedSums := sync.Map{} // every version ever acknowledged for the shared name
	var wg sync.WaitGroup
	for w := range *soakClients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			stored := map[string]string{} // name -> sha256 of the acknowledged version
			var c *protocol.Client
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for ctx.Err() == nil {
				if c == nil || rng.IntN(20) == 0 { // new connections now and then
					if c != nil {
						c.Close()
					}
					var err error
					if c, err = protocol.Dial(ctx, d.Addr); err != nil {
						if ctx.Err() == nil {
							report("worker %d: dial: %v", w, err)
						}
						return
					}
				}
				octx, ocancel := context.WithTimeout(ctx, time.Minute)
				name := fmt.Sprintf("soak-%d-%d.bin", w, rng.IntN(8))
				err := soakStep(octx, c, rng, name, stored, &ops, &sharedSums)
				ocancel()
				if err != nil && ctx.Err() == nil {
					report("worker %d: %v", w, err)
				}
				if err != nil {
					// Cut by the end of the soak: the server may or may not
					// have done it, so this name proves nothing any more.
					delete(stored, name)
				}
				if err != nil {
					c.Close()
					c = nil
				}
			}
			// Final check: every acknowledged upload is there, whole.
			vctx := ctxTimeout(t, 2*time.Minute)
			vc, err := protocol.Dial(vctx, d.Addr)
			if err != nil {
				report("worker %d: final dial: %v", w, err)
				return
			}
			defer vc.Close()
			for name, sum := range stored {
				hw := newHashWriter()
				if _, err := vc.Get(vctx, name, hw); err != nil || hw.sum() != sum {
					report("worker %d: acknowledged upload %s lost or changed: %v", w, name, err)
				}
			}
		})
	}
	wg.Wait()
	s := d.Stats(t)
	t.Logf("soak %s, %s mode, %d clients: list %d, get %d, upload %d, delete %d, shared-name uploads %d; problems %d",
		*soakFor, *soakMode, *soakClients, ops[0].Load(), ops[1].Load(), ops[2].Load(), ops[3].Load(), ops[4].Load(), problems.Load())
	t.Logf("server: %+v", s.Requests)
	if err := d.Stop(time.Minute); err != nil {
		t.Errorf("server exit: %v", err)
	}
}

// soakStep does one random operation and checks its reply.
func soakStep(ctx context.Context, c *protocol.Client, rng *rand.Rand, name string, stored map[string]string, ops *[5]atomic.Int64, shared *sync.Map) error {
	switch p := rng.IntN(100); {
	case p < 10:
		ops[0].Add(1)
		names, err := c.List(ctx)
		if err != nil {
			return fmt.Errorf("LIST: %w", err)
		}
		for n := range stored {
			if !slices.Contains(names, n) {
				return fmt.Errorf("LIST lacks acknowledged %s", n)
			}
		}
	case p < 45:
		ops[1].Add(1)
		hw := newHashWriter()
		_, err := c.Get(ctx, name, hw)
		want, ok := stored[name]
		var se *protocol.ServerError
		switch {
		case ok && err != nil:
			return fmt.Errorf("GET %s (acknowledged): %w", name, err)
		case ok && hw.sum() != want:
			return fmt.Errorf("GET %s: corrupted: sha256 %s, stored %s", name, hw.sum(), want)
		case !ok && !errors.As(err, &se):
			return fmt.Errorf("GET %s (not stored): want an ERROR reply, got %v", name, err)
		}
	case p < 75:
		ops[2].Add(1)
		size := rng.Int64N(2 << 20)
		seed := rng.Uint64()
		res, err := c.Upload(ctx, name, newPattern(seed, size))
		if err != nil {
			return fmt.Errorf("UPLOAD %s: %w", name, err)
		}
		stored[name] = res.StoredSHA256
	case p < 90:
		ops[3].Add(1)
		err := c.Delete(ctx, name)
		_, ok := stored[name]
		if ok && err != nil {
			return fmt.Errorf("DELETE %s (acknowledged): %w", name, err)
		}
		delete(stored, name)
	default:
		ops[4].Add(1)
		if rng.IntN(2) == 0 {
			// Known before the upload starts: another worker may read the
			// new version before this one has its reply.
			seed, size := rng.Uint64(), rng.Int64N(1<<20)
			shared.Store(patternSum(seed, size), true)
			if _, err := c.Upload(ctx, "shared.bin", newPattern(seed, size)); err != nil {
				return fmt.Errorf("UPLOAD shared.bin: %w", err)
			}
			return nil
		}
		hw := newHashWriter()
		if _, err := c.Get(ctx, "shared.bin", hw); err == nil {
			if _, ok := shared.Load(hw.sum()); !ok {
				return fmt.Errorf("GET shared.bin: a version nobody uploaded (sha256 %s)", hw.sum())
			}
		}
	}
	return nil
}
