package main

import (
	"context"
	"fmt"
)

// designsFor returns the designs run at limit l: the locks only at 1.
func designsFor(l int) []design {
	var ds []design
	for _, d := range designs() {
		if !d.mutexOnly || l == 1 {
			ds = append(ds, d)
		}
	}
	return ds
}

// hotRound runs every design on every shape once, the designs of a shape
// one after another, starting with a different one each round.
func (b *bench) hotRound(ctx context.Context, round int, t *hotTable) error {
	for _, l := range b.cfg.limits {
		for _, h := range b.cfg.holds {
			ds := designsFor(l)
			results := map[string]hotResult{}
			for i := range ds {
				d := ds[(i+round)%len(ds)]
				b.step("round %d: hot key L=%d h=%v: %s", round+1, l, h, d.name)
				key := fmt.Sprintf("hot:%d:L%d:h%v", round, l, h)
				r, err := b.runHot(ctx, hotCell{d, l, h}, key)
				if err != nil {
					return fmt.Errorf("hot key L=%d h=%v, %s: %w", l, h, d.name, err)
				}
				results[d.name] = r
			}
			t.record(round, hotShape{l, h}, results)
		}
	}
	return nil
}
