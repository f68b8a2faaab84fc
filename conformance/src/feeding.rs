//! The test patients' ITI-8 feeds: to the site's feed and the communities', once per patient.

use super::messages;
use super::session::{Runner, SectionCtx, TestState};
use time::Duration;

/// The feeds a new patient goes to: the site's, and every community's unless the section keeps
/// its patient to its own community.
fn feeds_for(r: &Runner, ctx: Option<&SectionCtx>) -> Vec<super::site::PatientFeed> {
    let own = ctx.and_then(|c| c.community.as_ref());
    if ctx.is_some_and(|c| c.feed_own_only) {
        return match own {
            Some(c) => c.patient_feed.iter().cloned().collect(),
            None => r.site.patient_feed.iter().cloned().collect(),
        };
    }
    r.site
        .patient_feed
        .iter()
        .chain(
            r.site
                .communities
                .iter()
                .filter_map(|c| c.patient_feed.as_ref()),
        )
        .cloned()
        .collect()
}

pub(crate) fn send_feed(r: &mut Runner, pid: &str, ctx: Option<&SectionCtx>) -> Result<(), String> {
    let feeds = feeds_for(r, ctx);
    if feeds.is_empty() {
        return Err("the site file has no patient_feed".into());
    }
    for feed in feeds {
        send_one_feed(r, pid, &feed)?;
    }
    Ok(())
}

fn send_one_feed(r: &mut Runner, pid: &str, feed: &super::site::PatientFeed) -> Result<(), String> {
    let tpl = r
        .feed_template
        .clone()
        .unwrap_or_else(|| messages::DEFAULT_A01.to_string());
    r.counter += 1;
    let control = format!(
        "NCPEH{}{}",
        super::session::now_string(r, Duration::ZERO),
        r.counter
    );
    let msg = messages::patient_feed_message(
        &tpl,
        pid,
        &feed.receiving_application,
        &feed.receiving_facility,
        &super::session::now_string(r, Duration::ZERO),
        &control,
    );
    let ack = r
        .transport
        .patient_feed(&feed.address, &msg)
        .map_err(|e| e.to_string())?;
    messages::ack_accepts(&ack)
}

/// Feed the test's patient once before its first submission, when the site has a feed.
pub(crate) fn ensure_fed(
    r: &mut Runner,
    st: &mut TestState,
    ctx: &SectionCtx,
) -> Result<(), String> {
    if feeds_for(r, Some(ctx)).is_empty() || st.fed.contains(&st.patient_id) {
        return Ok(());
    }
    let pid = st.patient_id.clone();
    send_feed(r, &pid, Some(ctx)).map_err(|e| format!("patient feed for {pid}: {e}"))?;
    st.fed.push(pid);
    Ok(())
}
