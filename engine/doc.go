// Package engine is the pure planner: it holds the playbook language (HCL decoded with
// explicit schemas, every problem a located diagnostic), the evaluation of checks and decisions
// over the Facts model, and makes the plan (a plan.Plan) of a playbook and facts. It runs no
// action, keeps no record and talks to no DC: apply, heal and the CLI do, with what it returns.
//
//	pb, files, diags := engine.LoadDir(dir, engine.LoadOptions{Vars: []string{"k=v"}})
//	dns, tcp := pb.Needs(snapshot)    // what the gatherer must observe (a gather.Needs)
//	p, err := engine.MakePlan(pb, snapshot, engine.PlanOptions{Now: time.Now()})
//	results, err := engine.Verify(pb, fresh, &p.Findings[0], action.Verify, opts)
//
// MakePlan does no I/O and is deterministic: failing links are grouped into partnerships
// (destination, source DSA GUID), the playbook's decisions are walked in file order for each,
// with three-valued checks (ok, failed, unknown) evaluated lazily; an unknown condition stops the
// walk and the finding says what to gather. The plan carries a fingerprint over exactly the
// facts its decisions read. Hostile fact values are flagged, quoted for the target shell in
// manual steps, and block the actions that would use them. Partnerships whose links all
// succeed are evaluated against the playbook's warning blocks (fact-only, enforced at load):
// Plan.Warnings, outside the fingerprint.
//
// The language is described in playbooks/README.md, the plan's JSON in plan/README.md.
package engine
