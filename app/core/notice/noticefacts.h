#pragma once

#include "notice/notice.h"
#include "model/plan.h"

#include <QDateTime>
#include <QString>
#include <QTimeZone>

namespace ft {

struct NoticeFactsOptions
{
    QDateTime start; // the window's start (picked, or a suggested quiet window); null: the plan's
    QTimeZone adminZone = QTimeZone::systemTimeZone();
    QString clusterName;
    QString targetVersion; // empty: the version the plan's steps go to
    // Periods of one kind closer than this are announced as one ("22:05–23:40: queries
    // are slower while w1, w2, w3 … are upgraded"), not one line per worker.
    qint64 mergeGapMs = 5 * 60 * 1000;
};

// The notice's facts from an upgrade plan: the window is the plan's whole run (from
// its start, staging included, for its estimated wall time); each step that is not
// skipped adds what users notice while its service is down (a worker: slower,
// possibly incomplete queries; the portal or standalone server: no FlowTraq; the NBI;
// the Web UI), and each server that receives flows a gap of about that many minutes.
NoticeFacts noticeFactsFromPlan(const UpgradePlan &plan, const NoticeFactsOptions &options = {});

} // namespace ft
