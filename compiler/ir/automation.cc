#include "compiler/ir/automation.h"

namespace seg::ir {

const ScenarioIr* Automation::scenario(const std::string& name) const {
  for (const ScenarioIr& s : scenarios) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const CampaignIr* Automation::campaign(const std::string& name) const {
  for (const CampaignIr& c : campaigns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const MessageIr* Automation::message(const std::string& name) const {
  for (const MessageIr& m : messages) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace seg::ir
