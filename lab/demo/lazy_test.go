package demo_test

import (
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/lab/demo"
)

// A Lazy is what apply and heal run actions through in the demo.
var _ apply.Executor = (*demo.Lazy)(nil)
