#pragma once

#include "model/expected.h"
#include "run/runjournal.h"
#include "verify/verification.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace ft {

enum class ReportFormat { Json, Html, Pdf };

// The whole run for the record: the plan, estimated against actual timings, each
// step's outcome and decisions, the verification matrix, the Web UI customizations
// acknowledged and the notice sent. `verification` may be null (not verified yet).
QJsonObject runReportJson(const RunJournal &journal, const VerificationReport *verification);

// A self-contained HTML page (no external files or scripts); every text from the
// cluster is escaped. QTextDocument renders it too (for the PDF).
QString runReportHtml(const RunJournal &journal, const VerificationReport *verification,
                      const QString &title = {});

// The format a file name asks for (.json, .html/.htm, .pdf).
Expected<ReportFormat> reportFormatForPath(const QString &path);

// Writes the report atomically. PDF is laid out with QTextDocument and QPdfWriter,
// which need a QGuiApplication (the wizard; tools may run one on the offscreen
// platform); without one, PDF is an error and JSON/HTML still work.
Result exportRunReport(const RunJournal &journal, const VerificationReport *verification,
                       const QString &path, std::optional<ReportFormat> format = std::nullopt);

} // namespace ft
