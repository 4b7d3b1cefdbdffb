#pragma once

#include "model/expected.h"

#include <QList>
#include <QMetaType>
#include <QString>

#include <compare>

namespace ft {

// A FlowTraq version: dotted numbers ("6.2.1") with an optional build number
// ("6.2.1-1234", "6.2.1 build 1234", "6.2.1b1234"). A missing build sorts as 0.
class Version
{
public:
    Version() = default;

    static Expected<Version> parse(const QString &text);

    bool isNull() const { return m_parts.isEmpty(); }
    const QList<int> &parts() const { return m_parts; }
    int build() const { return m_build; }
    bool hasBuild() const { return m_hasBuild; }

    // Canonical text: "6.2.1" or "6.2.1-1234".
    QString toString() const;

    std::strong_ordering operator<=>(const Version &other) const;
    bool operator==(const Version &other) const { return std::is_eq(*this <=> other); }

private:
    QList<int> m_parts;
    int m_build = 0;
    bool m_hasBuild = false;
};

} // namespace ft

Q_DECLARE_METATYPE(ft::Version)

namespace ft {

// The first FlowTraq-like version inside a longer text ("FlowTraq 18.12.1 build 33",
// "1:6.2.1-1200", "flowtraq\t6.2.1-1200"), canonical ("18.12.1-33"); "" when none.
// Dotted numbers with at least one dot, so a lone build or port number is not one.
QString findVersionText(const QString &text);

} // namespace ft
