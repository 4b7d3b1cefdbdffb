#pragma once

#include "model/expected.h"
#include "model/plan.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace ft {

enum class PlanFormat { Json, Csv, Html };

// JSON: everything in the plan, durations in milliseconds, times ISO 8601 UTC.
QJsonObject planToJson(const UpgradePlan &plan);
// Reads planToJson's output back (e.g. from a run journal); unknown enum values or a
// wrong format number are an error.
Expected<UpgradePlan> planFromJson(const QJsonObject &json);

// CSV (RFC 4180, UTF-8, CRLF): one row per staged node, per step and per skipped step.
QByteArray planToCsv(const UpgradePlan &plan);

// A self-contained HTML page (no external files or scripts): summary, staging table,
// step table with estimates and what users notice, skipped nodes, and where every
// estimate comes from. Every text from the cluster is escaped.
QString planToHtml(const UpgradePlan &plan, const QString &title = {});

// The format a file name asks for (.json, .csv, .html/.htm).
Expected<PlanFormat> planFormatForPath(const QString &path);

// Writes the plan atomically (QSaveFile); the format from the file name unless given.
Result exportPlan(const UpgradePlan &plan, const QString &path,
                  std::optional<PlanFormat> format = std::nullopt);

} // namespace ft
