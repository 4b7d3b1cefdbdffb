#pragma once

#include <QPlainTextEdit>

namespace ft::ui {

// A read-only unified diff, coloured the way reviewers expect: removed lines red,
// added lines green, hunk headers blue, file labels bold. Also shows a plain message
// (binary file, error, "select a file") in place of a diff.
class DiffView : public QPlainTextEdit
{
    Q_OBJECT

public:
    explicit DiffView(QWidget *parent = nullptr);

    void setDiff(const QString &unifiedDiff);
    void showMessage(const QString &message);
    // True while a diff (not a message) is shown.
    bool showsDiff() const { return m_showsDiff; }

private:
    class Highlighter;
    Highlighter *m_highlighter = nullptr;
    bool m_showsDiff = false;
};

} // namespace ft::ui
