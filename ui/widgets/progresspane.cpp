#include "widgets/progresspane.h"

#include "widgets/statusicons.h"

#include <QCoreApplication>
#include <QGridLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QToolButton>

namespace ft::ui {

namespace {

QString clock(qint64 ms)
{
    const qint64 seconds = std::max<qint64>(0, ms / 1000);
    if (seconds >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(seconds / 3600)
            .arg((seconds % 3600) / 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

QString elapsedAgainstEstimate(qint64 elapsedMs, qint64 estimateMs)
{
    return QCoreApplication::translate("ft::ui::ProgressPane", "%1 / ~%2")
        .arg(clock(elapsedMs), clock(estimateMs));
}

ProgressPane::ProgressPane(const RunStepRecord &step, QWidget *parent)
    : QFrame(parent)
{
    setObjectName(QStringLiteral("pane_%1_%2").arg(step.step.node, toString(step.step.component)));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);

    m_icon = new QLabel;
    m_icon->setFixedSize(18, 18);
    m_title = new QLabel(tr("<b>%1</b> — %2  <span style='color:gray'>%3 → %4</span>")
                             .arg(step.step.node.toHtmlEscaped(), displayName(step.step.component),
                                  step.step.fromVersion.toString(), step.step.toVersion.toString()));
    // Wraps rather than widening the pane: at 1024x768 and 150 % the line was wider than
    // the list, which then scrolled sideways and hid the Log button's end.
    m_title->setWordWrap(true);
    m_phase = new QLabel;
    m_phase->setObjectName(QStringLiteral("phase"));
    m_phase->setWordWrap(true);
    m_phase->setTextFormat(Qt::PlainText);
    m_difference = new QLabel;
    m_difference->setObjectName(QStringLiteral("reconciled"));
    m_difference->setWordWrap(true);
    m_difference->setStyleSheet(QStringLiteral("color:#0b57d0"));
    m_difference->hide();
    m_time = new QLabel;
    m_time->setObjectName(QStringLiteral("elapsed"));
    m_time->setToolTip(tr("Elapsed against the estimate (%1).").arg(step.step.estimate.basis));
    m_bar = new QProgressBar;
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setMaximumHeight(10);
    m_warning = new QLabel;
    m_warning->setObjectName(QStringLiteral("slowWarning"));
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(QStringLiteral("color:#9a6700"));
    m_warning->hide();
    m_toggle = new QToolButton;
    m_toggle->setObjectName(QStringLiteral("toggleLog"));
    m_toggle->setText(tr("Log"));
    m_toggle->setCheckable(true);
    m_toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toggle->setArrowType(Qt::RightArrow);
    m_toggle->setAutoRaise(true);
    m_log = new QPlainTextEdit;
    m_log->setObjectName(QStringLiteral("log"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kMaxLogLines);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFixedHeight(120);
    QFont mono = m_log->font();
    mono.setStyleHint(QFont::TypeWriter);
    mono.setFamily(QStringLiteral("monospace"));
    m_log->setFont(mono);
    m_log->hide();

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(8, 4, 8, 4);
    grid->setVerticalSpacing(2);
    grid->addWidget(m_icon, 0, 0);
    grid->addWidget(m_title, 0, 1);
    grid->addWidget(m_time, 0, 3);
    grid->addWidget(m_toggle, 0, 4);
    grid->addWidget(m_phase, 1, 1, 1, 2);
    grid->addWidget(m_bar, 2, 1, 1, 3);
    grid->addWidget(m_difference, 3, 1, 1, 4);
    grid->addWidget(m_warning, 4, 1, 1, 4);
    grid->addWidget(m_log, 5, 0, 1, 5);
    grid->setColumnStretch(1, 1);

    connect(m_toggle, &QToolButton::toggled, this, &ProgressPane::setLogExpanded);

    m_progress.state = step.state;
    m_progress.estimateMs = step.step.estimate.totalMs;
    refresh();
}

void ProgressPane::setProgress(const RunStepProgress &progress)
{
    m_progress = progress;
    refresh();
}

void ProgressPane::setStatus(const StepStatus &status)
{
    const bool kindChanged = !m_hasStatus || status.kind != m_status.kind;
    m_status = status;
    m_hasStatus = true;
    refresh();
    if (kindChanged)
        applyStateStyle();
}

void ProgressPane::setDifference(const QString &sentence)
{
    m_difference->setText(sentence);
    m_difference->setVisible(!sentence.isEmpty());
}

void ProgressPane::refresh()
{
    m_state = m_progress.state;
    // The words come from the one mapping (stepStatus); without it yet, the engine's state.
    const QString text = m_hasStatus ? m_status.text() : displayName(m_progress.state);
    m_phase->setText(text);
    m_phase->setToolTip(text);
    const StepStatusKind kind = m_hasStatus ? m_status.kind : StepStatusKind::Pending;
    switch (kind) {
    case StepStatusKind::Pending:
    case StepStatusKind::Staging:
    case StepStatusKind::Deferred:
        m_time->setText(tr("~%1").arg(elapsedAgainstEstimate(0, m_progress.estimateMs).section(QLatin1Char('~'), 1)));
        break;
    case StepStatusKind::NotRun:
        m_time->setText(tr("—"));
        break;
    default:
        m_time->setText(elapsedAgainstEstimate(m_progress.elapsedMs, m_progress.estimateMs));
        break;
    }
    // A bar shows work under way or done; a failed or unrun step shows none, so a bar
    // near the end never suggests a step that failed was almost done.
    const bool underWay = kind == StepStatusKind::Running || kind == StepStatusKind::Retrying;
    const bool done = kind == StepStatusKind::Succeeded || kind == StepStatusKind::AlreadyCurrent;
    m_bar->setVisible(underWay || done);
    m_bar->setValue(done ? 1000 : int(m_progress.progress * 1000));
    if (!m_progress.slow && m_warning->isVisible() && !underWay)
        m_warning->hide();
}

void ProgressPane::setSlow(const QString &sentence)
{
    m_warning->setText(sentence);
    m_warning->setVisible(!sentence.isEmpty());
}

void ProgressPane::applyStateStyle()
{
    QIcon icon = iconFor(m_status.kind);
    if (m_status.kind == StepStatusKind::Failed)
        setLogExpanded(true); // the log says what went wrong
    m_icon->setPixmap(icon.pixmap(16, 16));
    m_icon->setToolTip(m_status.word);
    QPalette pal = palette();
    pal.setColor(QPalette::Window, m_status.tint.isEmpty() ? QPalette().color(QPalette::Window)
                                                           : QColor(m_status.tint));
    setPalette(pal);
}

void ProgressPane::queueLog(const QStringList &lines)
{
    m_pending += lines;
    // Only the newest lines can ever be shown.
    if (m_pending.size() > kMaxLogLines)
        m_pending.remove(0, m_pending.size() - kMaxLogLines);
}

void ProgressPane::flush()
{
    if (m_pending.isEmpty())
        return;
    m_log->appendPlainText(m_pending.join(QLatin1Char('\n')));
    m_pending.clear();
}

bool ProgressPane::isLogExpanded() const
{
    return m_toggle->isChecked();
}

void ProgressPane::setLogExpanded(bool expanded)
{
    m_log->setVisible(expanded);
    m_toggle->setArrowType(expanded ? Qt::DownArrow : Qt::RightArrow);
    if (m_toggle->isChecked() != expanded)
        m_toggle->setChecked(expanded);
}

QString ProgressPane::phaseText() const
{
    return m_phase->text();
}

int ProgressPane::logLineCount() const
{
    return m_log->document()->blockCount();
}

} // namespace ft::ui
