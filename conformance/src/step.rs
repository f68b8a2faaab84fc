//! One test step: substitutions, metadata preparation, the exchange, and every check.

use time::Duration;

use super::assertions;
use super::expected;
use super::feeding;
use super::messages::{self, interpret, Interpreted};
use super::metadata_prep::{self, Assignments, PrepOptions};
use super::plan_xml::UseId;
use super::session::{Runner, SectionCtx, TestState};
use super::steplog::StepLog;
use super::testplan::{ExpectedStatus, TestStep, Transaction, TransactionKind};
use super::transport::{Endpoint, SoapRequest};
use super::xml::{self, Element};

pub(crate) fn run_step(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
    step: &TestStep,
) -> StepLog {
    let mut log = StepLog {
        id: step.id.clone(),
        expected_status: step.expected_status.map(|s| s.as_str().to_string()),
        ..Default::default()
    };
    if step.new_patient_id {
        st.patient_id = r.fresh_patient_id();
        log.new_patient_id = Some(st.patient_id.clone());
    }
    let Some(t) = &step.transaction else {
        log.passed = true;
        return log;
    };
    log.transaction = Some(t.kind.element_name().to_string());
    log.metadata_file = t.metadata_file.clone();
    if let (Some(ms), true) = (t.wait_before_ms, r.opts.honour_waits) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if let Err(e) = exchange(r, st, ctx, step, t, &mut log) {
        log.errors.push(e);
    }
    if let Some(a) = &t.assertions {
        run_assertions(r, ctx, a, &mut log);
    }
    log.passed = log.errors.is_empty();
    log
}

/// UseId, UseReport and the built-in placeholders, in that order of precedence.
fn substitutions(
    r: &Runner,
    st: &TestState,
    ctx: &SectionCtx,
    step: &TestStep,
    t: &Transaction,
) -> Result<Vec<(String, String)>, String> {
    let mut subs = Vec::new();
    for u in &t.use_ids {
        subs.push((u.symbol.clone(), resolve_use_id(r, ctx, u)?));
    }
    for u in &t.use_reports {
        if u.test.as_deref() == Some(super::fhir_step::SUPPORTING_FHIR_PATIENTS) {
            let v = super::fhir_step::supporting_report(r, st, ctx, u)?;
            subs.push((u.use_as.clone(), v));
            continue;
        }
        let test = match &u.test {
            Some(t) if !st.aliases.contains(t) => t.clone(),
            _ => ctx.test.clone(),
        };
        let section = if u.section == "THIS" {
            ctx.section.clone()
        } else {
            u.section.clone()
        };
        let v = r
            .logs
            .step(&test, &section, &u.step)
            .and_then(|s| s.report(&u.report_name))
            .ok_or_else(|| {
                format!(
                    "UseReport {} from {test}/{section}/{}: not found",
                    u.report_name, u.step
                )
            })?;
        subs.push((u.use_as.clone(), v.to_string()));
    }
    let pid = if step.alt_patient_id {
        st.alt_patient_id
            .clone()
            .unwrap_or_else(|| st.patient_id.clone())
    } else {
        st.patient_id.clone()
    };
    subs.push(("$patientid$".into(), pid));
    let community = ctx.community.as_ref();
    if let Some(h) = community
        .map(|c| &c.home_community_id)
        .or(r.site.home_community_id.as_ref())
    {
        subs.push(("$home$".into(), h.clone()));
        subs.push(("$configHome$".into(), h.clone()));
    }
    if let Some(rep) = community
        .and_then(|c| c.repository_unique_id.as_ref())
        .or(r.site.repository_unique_id.as_ref())
    {
        subs.push(("$repositoryuid$".into(), rep.clone()));
    }
    // A minute ahead: objects made in this same second must fall before an exclusive upper
    // bound of $now$.
    subs.push((
        "$now$".into(),
        super::session::now_string(r, Duration::minutes(1)),
    ));
    subs.push((
        "$lastyear$".into(),
        super::session::now_string(r, Duration::days(-365)),
    ));
    let today = super::session::now_string(r, Duration::ZERO);
    subs.push(("$DATE$".into(), today.chars().take(8).collect()));
    Ok(subs)
}

pub(crate) fn resolve_use_id(r: &Runner, ctx: &SectionCtx, u: &UseId) -> Result<String, String> {
    let (test, section) = match &u.testdir {
        Some(d) => r.tk.resolve_testdir(&ctx.test, &ctx.section, d),
        None => (ctx.test.clone(), ctx.section.clone()),
    };
    r.logs
        .step(&test, &section, &u.step)
        .and_then(|s| s.assignments.lookup(&u.section, &u.id))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "UseId {} ({}) from {test}/{section}/{}: not found",
                u.id, u.section, u.step
            )
        })
}

fn exchange(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
    step: &TestStep,
    t: &Transaction,
    log: &mut StepLog,
) -> Result<(), String> {
    if step.alt_patient_id && st.alt_patient_id.is_none() {
        // Deliberately never fed: the registry must not know it.
        st.alt_patient_id = Some(r.fresh_patient_id());
    }
    if t.kind.is_fhir() {
        super::fhir_step::ensure_supporting_patient(r, st, ctx, t)?;
    }
    let subs = substitutions(r, st, ctx, step, t)?;
    log.substitutions = subs.clone();
    if t.kind.is_fhir() {
        return super::fhir_step::exchange(r, st, ctx, step, t, &subs, log);
    }
    if t.kind == TransactionKind::PatientIdentityFeed {
        if t.create_new_patient_id {
            st.patient_id = r.fresh_patient_id();
        }
        let pid = st.patient_id.clone();
        let res = feeding::send_feed(r, &pid, Some(ctx));
        log.step_status = Some(if res.is_ok() { "Success" } else { "Failure" }.into());
        log.reports.push(("$patientid$".into(), pid.clone()));
        if res.is_ok() {
            st.fed.push(pid);
        }
        return check_feed_status(step, res);
    }
    let Some(wire) = messages::wire(t.kind) else {
        // NullTransaction: nothing is sent; only Assertions run.
        return Ok(());
    };
    // Reports the toolkit publishes on every step; explicit Reports pushed later win.
    if let Some((_, pid)) = subs.iter().find(|(k, _)| k == "$patientid$") {
        log.reports.push(("$patientid$".into(), pid.clone()));
    }
    let home = ctx
        .community
        .as_ref()
        .map(|c| c.home_community_id.clone())
        .or_else(|| r.site.home_community_id.clone());
    if let Some(h) = home {
        log.reports.push(("$testdata_home$".into(), h));
    }
    let repo = ctx
        .community
        .as_ref()
        .and_then(|c| c.repository_unique_id.clone())
        .or_else(|| r.site.repository_unique_id.clone());
    if let Some(id) = repo {
        log.reports.push(("$testdata_repid$".into(), id));
    }
    let routed = ctx.community.as_ref().and_then(|c| match wire.endpoint {
        super::transport::Endpoint::Registry => c.registry.clone(),
        super::transport::Endpoint::Repository => c.repository.clone(),
        _ => None,
    });
    let url = match routed {
        Some(u) => u,
        None => r
            .site
            .url(wire.endpoint)
            .map_err(|e| e.to_string())?
            .to_string(),
    };
    log.endpoint = Some(url.clone());
    let file = t.metadata_file.as_deref().ok_or("no MetadataFile")?;
    let mut root = super::plan_xml::read_file(&ctx.dir, file)?;
    metadata_prep::substitute(&mut root, &subs);
    let mut body = if messages::is_submission(t.kind) {
        let (sor, inline_docs) = messages::unwrap_pnr(root);
        let mut sor = metadata_prep::to_rim30(sor).map_err(|e| e.to_string())?;
        let pid = subs
            .iter()
            .find(|(k, _)| k == "$patientid$")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let time = super::session::now_string(r, Duration::ZERO);
        let opts = PrepOptions {
            assign_uuids: t.assign_uuids,
            no_assign_uids: &t.no_assign_uids,
            no_patient_id: t.no_patient_id,
            patient_id: &pid,
            source_id: r.site.source_id.as_deref(),
            submission_time: &time,
            codes: r.codes.as_ref(),
        };
        log.assignments = metadata_prep::prepare_submission(&mut sor, &opts, r.ids.as_mut())
            .map_err(|e| e.to_string())?;
        if !t.no_patient_id && !step.alt_patient_id {
            feeding::ensure_fed(r, st, ctx)?;
        }
        if t.kind == TransactionKind::ProvideAndRegister {
            let docs = read_documents(ctx, t, &log.assignments)?;
            messages::pnr_body(sor, &docs, inline_docs)
        } else {
            sor
        }
    } else {
        root
    };
    xml::fix_namespaces(&mut body);
    let body_xml = body.to_xml();
    log.input = Some(body);
    log.out_action = Some(wire.action.to_string());
    log.expected_in_action = Some(wire.response_action.to_string());
    add_assignment_reports(log);
    let req = SoapRequest {
        endpoint: wire.endpoint,
        url,
        action: wire.action.to_string(),
        body: body_xml,
        use_mtom: r.site.mtom && t.kind == TransactionKind::ProvideAndRegister,
        security: security_header(r, st, wire.endpoint)?,
    };
    let resp = r.transport.send(&req).map_err(|e| e.to_string())?;
    log.in_action = resp.action.clone();
    if let Some(f) = &resp.fault {
        log.step_status = Some("Fault".into());
        let mut fe = Element::new(None, "Fault", None);
        let mut c = Element::new(None, "Code", None);
        c.push_text(&f.code);
        let mut rs = Element::new(None, "Reason", None);
        rs.push_text(&f.reason);
        fe.push(c);
        fe.push(rs);
        log.result = Some(fe);
        return match step.expected_status {
            Some(ExpectedStatus::Fault) => Ok(()),
            _ => Err(format!("SOAP fault {}: {}", f.code, f.reason)),
        };
    }
    let result = xml::parse(&resp.body).map_err(|e| format!("response body: {e}"))?;
    let got = interpret(&result);
    log.step_status = got.status.clone();
    log.result = Some(result);
    let mut problems = Vec::new();
    check_status(step, &got, &mut problems);
    assertions::run_reports(t, log, &mut problems);
    check_contents(r, ctx, t, log, &mut problems);
    // A retrieve that is to fail has no document to compare (50000/verify names one anyway).
    if step.expected_status != Some(ExpectedStatus::Failure) {
        super::retrieve_check::check(r, ctx, t, &subs, &got, &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The wsse:Security header of a XUA test's request to `endpoint`; none outside XUA tests.
fn security_header(
    r: &mut Runner,
    st: &TestState,
    endpoint: Endpoint,
) -> Result<Option<String>, String> {
    let Some(x) = &st.xua else { return Ok(None) };
    let now = (r.clock)();
    let issuer = r.xua_issuer()?;
    let header = issuer.security(x.variant_for(endpoint), now);
    header.map(Some).map_err(|e| e.to_string())
}

fn check_feed_status(step: &TestStep, res: Result<(), String>) -> Result<(), String> {
    match (step.expected_status.unwrap_or(ExpectedStatus::Success), res) {
        (ExpectedStatus::Success, r) => r,
        (_, Ok(())) => Err("the feed was accepted, a failure was expected".into()),
        (_, Err(_)) => Ok(()),
    }
}

fn read_documents(
    ctx: &SectionCtx,
    t: &Transaction,
    a: &Assignments,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for d in &t.documents {
        let p = ctx.dir.join(&d.file);
        let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let id = a
            .lookup("AssignedUuids", &d.id)
            .unwrap_or(&d.id)
            .to_string();
        out.push((id, bytes));
    }
    Ok(out)
}

/// `<symbol>_uid` and `<symbol>_uuid` reports, as the toolkit publishes them.
fn add_assignment_reports(log: &mut StepLog) {
    let a = log.assignments.clone();
    for (s, v) in &a.uids {
        log.reports.push((format!("{s}_uid"), v.clone()));
    }
    for (s, v) in &a.uuids {
        log.reports.push((format!("{s}_uuid"), v.clone()));
    }
}

fn check_status(step: &TestStep, got: &Interpreted, problems: &mut Vec<String>) {
    let want = step.expected_status.unwrap_or(ExpectedStatus::Success);
    let status = got.status.as_deref().unwrap_or("(none)");
    if want == ExpectedStatus::Fault {
        problems.push(format!("expected a SOAP fault, got status {status}"));
    } else if status != want.as_str() {
        let errs: Vec<String> = got
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.context))
            .collect();
        let detail = if errs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", errs.join(", "))
        };
        problems.push(format!("expected {}, got {status}{detail}", want.as_str()));
    }
    for code in &step.expected_error_codes {
        if !got.errors.iter().any(|e| &e.code == code) {
            problems.push(format!("expected error code {code} not returned"));
        }
    }
    for m in &step.expected_error_messages {
        if !got
            .errors
            .iter()
            .any(|e| &e.code == m || e.context.contains(m.as_str()))
        {
            problems.push(format!("expected error message {m} not returned"));
        }
    }
}

fn check_contents(
    r: &Runner,
    ctx: &SectionCtx,
    t: &Transaction,
    log: &StepLog,
    problems: &mut Vec<String>,
) {
    let (Some(checks), Some(result)) = (&t.expected_contents, &log.result) else {
        return;
    };
    if matches!(
        t.kind,
        TransactionKind::Retrieve | TransactionKind::Igr | TransactionKind::Xcr
    ) {
        // Retrieve contents are checked against ReferenceDocument; the testkit's retrieve
        // steps carry an empty ExpectedContents. A count is the one check that applies.
        let returned = interpret(result).documents.len();
        for c in checks {
            match c {
                expected::ContentCheck::Documents(n) if *n == returned => {}
                expected::ContentCheck::Documents(n) => problems.push(format!(
                    "ExpectedContents: expected {n} documents, {returned} returned"
                )),
                other => problems.push(format!(
                    "ExpectedContents {other:?} does not apply to a retrieve"
                )),
            }
        }
        return;
    }
    for c in checks {
        let mut resolved = Vec::new();
        if let expected::ContentCheck::DocumentEntriesOnly(entries) = c {
            for (u, _) in entries {
                match resolve_use_id(r, ctx, u) {
                    Ok(v) => resolved.push(v),
                    Err(e) => problems.push(e),
                }
            }
        }
        if let Err(e) = expected::check(result, c, &resolved) {
            problems.push(format!("ExpectedContents: {e}"));
        }
    }
}

fn run_assertions(
    r: &Runner,
    ctx: &SectionCtx,
    a: &super::testplan::Assertions,
    log: &mut StepLog,
) {
    // The section as logged so far, this step included: what the toolkit's THIS means.
    let mut section = r
        .logs
        .section(&ctx.test, &ctx.section)
        .cloned()
        .unwrap_or_default();
    section.steps.push(log.clone());
    let xml = section.to_xml();
    for o in assertions::evaluate(a, &xml, &log.substitutions) {
        if !o.passed {
            log.errors.push(format!(
                "assertion {}: {}",
                o.id,
                o.reason.unwrap_or_default()
            ));
        }
    }
}
