package rules

// Rules about the Dapr side of publishing (the daprd sidecar, the Dapr
// subscriber) apply only to audits whose connection uses the dapr driver:
// with Gatekeeper v3.20+'s disk driver the audit writes files and needs no
// sidecar. Such rules set Rule.DaprOnly; Rule.Run gives them daprAudits.
// daprOnlyNote is added to the documentation of the wrapped rules.
const daprOnlyNote = "\n\nChecked only for an audit whose connection uses the `dapr` driver (not Gatekeeper v3.20+'s `disk` driver, which needs no Dapr)."
