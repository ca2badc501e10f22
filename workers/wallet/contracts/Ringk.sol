// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// RINGK test token of the local chain: the deployer (the treasury's hot signer) holds the whole supply.
contract Ringk is ERC20 {
    constructor(uint256 supply) ERC20("RINGK", "RINGK") {
        _mint(msg.sender, supply);
    }
}
