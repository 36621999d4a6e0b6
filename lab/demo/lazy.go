package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/plan"
)

// WindowsWaived is a reason to give apply.Options.WindowsWaived (and heal's) in tests that run the
// demo forest without its change windows; fix8524 apply --demo and heal --demo enforce them
// (--clock TIME judges them at another time).
const WindowsWaived = "the demo forest is simulated (its DCs are servers on 127.0.0.1)"

// Lazy is the demo forest as apply and heal use it: it implements gather.Source and
// apply.Executor, and starts the forest (broken, as its scenario describes) on first use, so
// that a run refused by a gate starts nothing.
type Lazy struct {
	// Name is the scenario ("" = scenario.Default).
	Name string
	// OnStart is called once the forest runs (to tell the user).
	OnStart func(d *Demo)
	// Settings are what the operator gives the gather (--inventory, --assume-self-dns).
	Settings GatherSettings

	once sync.Once
	d    *Demo
	f    gather.Live
	x    *actions.Executor
	err  error
}

var _ gather.Source = (*Lazy)(nil) // and an apply.Executor: lazy_test.go

func (l *Lazy) start(ctx context.Context) error {
	l.once.Do(func() {
		d, err := Start(ctx, l.Name)
		if err != nil {
			l.err = err
			return
		}
		o, err := d.GatherOptions(nil)
		if err != nil {
			d.Close()
			l.err = err
			return
		}
		if l.Settings.Inventory != nil {
			o.Inventory = l.Settings.Inventory
		}
		o.AssumeSelfDNS = l.Settings.AssumeSelfDNS
		l.d, l.f, l.x = d, gather.Live{Options: o}, &actions.Executor{Runners: d, LDAP: d}
		if l.OnStart != nil {
			l.OnStart(d)
		}
	})
	return l.err
}

// GatherForPlan starts the named scenario's demo forest ("" = scenario.Default), broken as the
// scenario describes, gathers what pb needs and stops the forest. It is the one way the demo is
// gathered: `plan --demo` and `gather --demo` call it, and `apply --demo` (drift check,
// verification) and heal gather through a Lazy with gather.Complete exactly as it does, so
// that a demo plan's fingerprints are those apply's drift check computes.
func GatherForPlan(ctx context.Context, name string, pb *engine.Playbook) (*facts.Snapshot, error) {
	return GatherForPlanWith(ctx, name, pb, GatherSettings{})
}

// GatherSettings are what the operator gives a gather of the demo forest, as on a real one: an
// inventory (it replaces the scenario's own) and --assume-self-dns.
type GatherSettings struct {
	Inventory     *inventory.Inventory
	AssumeSelfDNS bool
}

// GatherForPlanWith is GatherForPlan with the operator's settings.
func GatherForPlanWith(ctx context.Context, name string, pb *engine.Playbook, set GatherSettings) (*facts.Snapshot, error) {
	if pb == nil {
		return nil, errors.New("gathering from the demo forest: no playbook to say what to observe")
	}
	l := &Lazy{Name: name, Settings: set}
	defer l.Close()
	s, err := gather.Complete(ctx, l, pb.Needs)
	if err != nil {
		return nil, fmt.Errorf("gathering from the demo forest: %w", err)
	}
	return s, nil
}

// Demo returns the running demo, or nil before first use.
func (l *Lazy) Demo() *Demo { return l.d }

// Close stops the forest if it was started.
func (l *Lazy) Close() error {
	if l.d != nil {
		return l.d.Close()
	}
	return nil
}

// Gather implements gather.Source.
func (l *Lazy) Gather(ctx context.Context, needs gather.Needs) (*facts.Snapshot, error) {
	if err := l.start(ctx); err != nil {
		return nil, err
	}
	return l.f.Gather(ctx, needs)
}

// Observe implements gather.Source.
func (l *Lazy) Observe(ctx context.Context, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) error {
	if err := l.start(ctx); err != nil {
		return err
	}
	return l.f.Observe(ctx, s, dns, tcp)
}

// Run implements apply.Executor.
func (l *Lazy) Run(ctx context.Context, a plan.Action) actions.Outcome {
	if err := l.start(ctx); err != nil {
		return actions.Outcome{Command: actions.Display(a), Err: err}
	}
	return l.x.Run(ctx, a)
}

// Inspect implements apply.Executor.
func (l *Lazy) Inspect(ctx context.Context, a plan.Action) (ldapdelete.ObjectState, error) {
	if err := l.start(ctx); err != nil {
		return ldapdelete.ObjectState{}, err
	}
	return l.x.Inspect(ctx, a)
}

// Leftovers implements apply.Executor.
func (l *Lazy) Leftovers(ctx context.Context, a plan.Action, dns ldapdelete.DNSQuerier, in ldapdelete.LeftoversInput) []ldapdelete.Leftover {
	if err := l.start(ctx); err != nil {
		return nil
	}
	return l.x.Leftovers(ctx, a, dns, in)
}
