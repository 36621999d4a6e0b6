// Package plan is the plan model: what `fix8524 plan` proposes, as plain data. The planner
// (engine) makes a Plan from a playbook and facts; approve, apply, heal, show and report read
// it back, from the JSON of a plan file (plan/README.md describes it field by field).
//
// The package holds the types, their JSON, the vocabularies a plan is written in (check
// statuses, readings, finding statuses, risks, action kinds) and nothing that runs: it imports
// no transport, no journal and no part of the planner.
package plan
