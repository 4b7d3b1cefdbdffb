#pragma once

#include "agentconfig.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace ft::agent::versionsources {

// One answer of one source about one component's installed version.
struct Reading
{
    QString source;  // registry | dpkg | rpm | version_command | version_file
    QString detail;  // what was asked: "dpkg-query -W flowtraq", "HKLM\…\{GUID}"
    QString version; // empty when the source failed or knows nothing
    QString error;   // a sentence when the source failed

    QJsonObject toJson() const;
};

// The chain's result: the first source that knew the version wins; every reading is
// kept, and a disagreement between the sources that answered is flagged, never hidden.
struct ComponentVersion
{
    QString version;
    QString source;
    QList<Reading> readings;
    bool disagreement = false;

    // {"installed", "version", "source", "sources": [...], "disagreement"}; "error" when
    // no source knew and at least one failed.
    QJsonObject toJson() const;
};

// Reads one component ("server", "nbi", "webui") through the chain configured in
// agent.conf: Windows registry (Windows only), the package database (dpkg or
// rpm, for the configured package names), version_command, the install folder's
// VERSION file. Runs processes: call it off the event loop.
ComponentVersion read(const AgentConfig &config, const QString &component);

// Combines readings in chain order into a result (pure; tested on its own).
ComponentVersion combine(const QList<Reading> &readings);

// ---- parsers, pure, tested on captured outputs ----

// One Uninstall entry from `reg query …\Uninstall /s`.
struct RegistryEntry
{
    QString key;
    QString displayName;
    QString displayVersion;
};
// All entries of the output that carry a DisplayName.
QList<RegistryEntry> parseRegQuery(const QString &output);
// Entries whose DisplayName contains `match` (case-insensitive), as readings of a
// component: "nbi" takes the entries that name the NBI, "webui" those that name the
// Web UI, "server" the rest.
QList<Reading> registryReadings(const QList<RegistryEntry> &entries, const QString &match, const QString &component);

// `dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n' NAMES`: one reading
// per name; a name that is listed but not installed ("un", "rc") is not a version.
QList<Reading> parseDpkgQuery(const QString &output, const QStringList &names, const QString &detail);
// `rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' NAMES`: one reading per name.
QList<Reading> parseRpmQuery(const QString &output, const QStringList &names, const QString &detail);
// The first FlowTraq-like version ("6.2.1", "6.2.1-1200", "18.12.1 build 33") in a text.
QString findVersion(const QString &text);

} // namespace ft::agent::versionsources
