// SPDX-License-Identifier: MIT
// The FeatureSet objects the engines hand out with every FlowView.
#include "engine/nfm_features.hpp"

namespace nfm {

const FeatureSet& NfmFeatureSet() noexcept {
  static const FeatureSet set{"nfm", std::span<const FeatureInfo>(kNfmFeatures), FeatureSetId::kNfm};
  return set;
}

}  // namespace nfm
